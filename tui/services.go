// Package tui is env2vault's interactive wizard: a bubbletea program that
// walks through scan -> review -> backend -> plan -> migrate -> rewrite ->
// export. It holds no migration logic of its own: every step calls the
// same library packages the commands use, through the function fields of
// Services, so tests inject fakes and the wizard command wires the real
// packages.
//
// No screen ever shows a secret value: findings show at most their hint
// (a known provider prefix), diffs come redacted from rewrite.
package tui

import (
	"context"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
)

// ScanProgress is a snapshot of a running scan.
type ScanProgress struct {
	// Files is how many files were read so far.
	Files int
	// Findings is how many secrets were found so far.
	Findings int
	// Current says what the scan is doing ("reading files", a path, ...).
	Current string
}

// DiffRow is one secret's planned action against the live backend.
type DiffRow struct {
	Secret string
	// Target is the backend location, e.g. "secret/billing-api/production#STRIPE_KEY".
	Target string
	// Action is plan.ActionCreate, ActionUpdate, ActionNoop or ActionConflict.
	Action string
	// Detail explains the action in a few words (never a value).
	Detail string
	// Verified reports, after a push, that the value was read back from
	// the backend and matched the plan's fingerprint.
	Verified bool
}

// MigrateProgress is a snapshot of a running push.
type MigrateProgress struct {
	Done, Total int
	// Secret is the secret just handled, Action what happened to it.
	Secret, Action string
}

// MigrateResult sums up a push.
type MigrateResult struct {
	Created, Updated, Unchanged, Conflicts, Failed int
	// Rows say what happened to each secret.
	Rows []DiffRow
}

// VerifyRow is one verification outcome.
type VerifyRow struct {
	// Check names what was verified (backend, working-tree, env-read).
	Check string
	// Subject is the secret or file the row is about.
	Subject string
	// OK reports that the check passed; Detail says why not.
	OK     bool
	Detail string
}

// FileDiff is one file's proposed rewrite, as a redacted unified diff.
type FileDiff struct {
	// Repo and Path name the file (Path relative to the repo).
	Repo, Path string
	// Diff is the unified diff, with secret values already redacted.
	Diff string
}

// Key returns the file's identity as rewrite's Apply filter sees it.
func (f FileDiff) Key() string {
	if f.Repo == "" {
		return f.Path
	}
	return f.Repo + "/" + f.Path
}

// Changes is a prepared rewrite: the per-file diffs and how to apply a
// chosen subset of them.
type Changes struct {
	Files []FileDiff
	// Apply writes the files for which only(FileDiff.Key()) is true and
	// returns the keys written.
	Apply func(ctx context.Context, only func(key string) bool) ([]string, error)
}

// Services are the library calls the wizard makes. The wizard command
// fills them with the real packages; tests fill them with fakes. A nil
// field disables the step that needs it with a clear message.
type Services struct {
	// Scan scans roots, reporting progress as it goes.
	Scan func(ctx context.Context, roots []string, progress func(ScanProgress)) (*discover.Result, error)
	// Ignore records a false positive in the repo's ignore file and
	// returns the file it wrote.
	Ignore func(ctx context.Context, f discover.Finding) (string, error)
	// Open connects to a backend (credentials come from the environment).
	Open func(ctx context.Context, b plan.Backend) (migrate.Backend, error)
	// Plan builds the migration plan from the reviewed findings.
	Plan func(ctx context.Context, res *discover.Result, b plan.Backend) (*plan.Plan, error)
	// Diff compares the plan with the live backend.
	Diff func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]DiffRow, error)
	// Migrate pushes the plan's secrets, reporting progress.
	Migrate func(ctx context.Context, be migrate.Backend, p *plan.Plan, progress func(MigrateProgress)) (MigrateResult, error)
	// Verify checks the finished migration after the rewrite: the
	// backend holds every value, no file still holds one, no code still
	// reads a migrated variable from the environment.
	Verify func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]VerifyRow, error)
	// Rewrite prepares the code and config changes.
	Rewrite func(ctx context.Context, p *plan.Plan) (*Changes, error)
	// Export writes the plan, reports and per-phase checklists into dir
	// and returns the files written.
	Export func(ctx context.Context, dir string, res *discover.Result, p *plan.Plan) ([]string, error)
}

// Settings are the wizard's starting values.
type Settings struct {
	// Roots are the folders offered for scanning (default ".").
	Roots []string
	// Backend is the preselected backend and its settings.
	Backend plan.Backend
	// OutDir is the folder offered for the export (default "env2vault-out").
	OutDir string
	// TokenSource says where the backend credentials are read from, shown
	// on the backend screen (the wizard never asks for a token).
	TokenSource func(kind string) string
}
