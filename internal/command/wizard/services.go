package wizard

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/command/batch"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/langs"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/tui"
	"github.com/env2vault/env2vault/verify"
)

// Services wires the wizard to the library packages: the same calls the
// scan, plan, migrate, rewrite and verify commands make. The push keeps
// its journal beside outDir/plan.yaml, where batch keeps it too, so an
// interrupted push resumes from either.
func Services(fp *secret.Fingerprinter, mopts migrate.Options, outDir, version string) tui.Services {
	journal := migrate.JournalPath(filepath.Join(outDir, batch.FilePlan))
	return tui.Services{
		Scan: func(ctx context.Context, roots []string, progress func(tui.ScanProgress)) (*discover.Result, error) {
			return discover.Scan(ctx, discover.Options{Paths: roots, Fingerprinter: fp, Progress: func(p discover.Progress) {
				progress(tui.ScanProgress{Files: p.Files, Findings: p.Secrets, Current: scanPhases[p.Phase]})
			}})
		},
		Ignore: func(ctx context.Context, f discover.Finding) (string, error) {
			dir := filepath.Join(f.Root, filepath.FromSlash(f.Repo))
			if err := discover.AppendIgnore(dir, discover.IgnoreEntry(f)); err != nil {
				return "", err
			}
			return filepath.Join(dir, ".env2vaultignore"), nil
		},
		Open: func(ctx context.Context, b plan.Backend) (migrate.Backend, error) {
			return migrate.Open(ctx, b, mopts)
		},
		Plan: func(ctx context.Context, res *discover.Result, b plan.Backend) (*plan.Plan, error) {
			return plan.Build(ctx, res, plan.BuildOptions{Backend: b})
		},
		Diff: func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]tui.DiffRow, error) {
			return diff(ctx, be, p, fp)
		},
		Migrate: func(ctx context.Context, be migrate.Backend, p *plan.Plan, progress func(tui.MigrateProgress)) (tui.MigrateResult, error) {
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return tui.MigrateResult{}, fmt.Errorf("creating %s for the push journal: %w", outDir, err)
			}
			return push(ctx, be, p, fp, journal, progress)
		},
		Verify: func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]tui.VerifyRow, error) {
			rep, err := batch.Verify(ctx, be, p, fp)
			if err != nil {
				return nil, err
			}
			return verifyRows(p, rep), nil
		},
		Rewrite: func(ctx context.Context, p *plan.Plan) (*tui.Changes, error) {
			cs, err := rewrite.Prepare(ctx, p, rewrite.Options{Languages: langs.All(), Fingerprinter: fp})
			if err != nil {
				return nil, err
			}
			return changes(cs)
		},
		Export: func(ctx context.Context, dir string, res *discover.Result, p *plan.Plan) ([]string, error) {
			return batch.WriteReports(dir, res, p, version)
		},
	}
}

// scanPhases describe discover's progress phases.
var scanPhases = map[string]string{
	"files":   "reading files",
	"history": "searching git history for leaked values",
	"done":    "done",
}

// verifyRows lists one backend row per secret (failed when a backend
// problem names it) and one row per other problem.
func verifyRows(p *plan.Plan, rep *verify.Report) []tui.VerifyRow {
	backend := map[string]string{}
	var rows []tui.VerifyRow
	for _, pr := range rep.Problems {
		if pr.Check == verify.CheckBackend {
			backend[pr.Secret] = pr.Detail
		}
	}
	for _, s := range p.Secrets {
		detail, failed := backend[s.Name]
		rows = append(rows, tui.VerifyRow{Check: verify.CheckBackend, Subject: s.Name, OK: !failed, Detail: detail})
	}
	for _, pr := range rep.Problems {
		if pr.Check == verify.CheckBackend {
			continue
		}
		subject := pr.Repo + "/" + pr.Path
		if pr.Path == "" {
			subject = pr.Secret
		}
		rows = append(rows, tui.VerifyRow{Check: pr.Check, Subject: subject, OK: pr.Severity != verify.SeverityError, Detail: pr.Severity + ": " + pr.Detail})
	}
	return rows
}

// changes adapts a rewrite changeset: per-file redacted diffs, and Apply
// over the files the user accepted.
func changes(cs *rewrite.Changeset) (*tui.Changes, error) {
	out := &tui.Changes{}
	for _, f := range cs.Files {
		var b bytes.Buffer
		if err := cs.DiffFile(&b, f); err != nil {
			return nil, err
		}
		out.Files = append(out.Files, tui.FileDiff{Path: f.Name(), Diff: b.String()})
	}
	out.Apply = func(ctx context.Context, only func(string) bool) ([]string, error) {
		err := cs.Apply(ctx, only)
		var applied []string
		for _, f := range cs.Files {
			if f.Applied {
				applied = append(applied, f.Name())
			}
		}
		return applied, err
	}
	return out, nil
}
