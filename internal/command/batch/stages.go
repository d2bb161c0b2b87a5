package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/langs"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/verify"
)

// migrateSummary counts what a push did.
type migrateSummary struct {
	Created, Updated, Unchanged, Conflicts, Failed int
}

// stages are the library calls a batch run makes, one field per stage,
// so a test can swap one (e.g. to force a conflict) and the verify step
// can change implementation without touching the run.
type stages struct {
	Scan    func(ctx context.Context, paths []string, cfg Config, fp *secret.Fingerprinter, progress func(discover.Progress)) (*discover.Result, error)
	Plan    func(ctx context.Context, res *discover.Result, cfg Config) (*plan.Plan, error)
	Open    func(ctx context.Context, b plan.Backend, opts migrate.Options) (migrate.Backend, error)
	Diff    func(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error
	Migrate func(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, cfg Config, progress func(name, action string, done, total int)) (migrateSummary, error)
	Rewrite func(ctx context.Context, p *plan.Plan, cfg Config, fp *secret.Fingerprinter) (*rewrite.Changeset, error)
	Verify  func(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) (*verify.Report, error)
}

// withDefaults fills every unset stage with the real library call.
func (s stages) withDefaults() stages {
	if s.Scan == nil {
		s.Scan = scanStage
	}
	if s.Plan == nil {
		s.Plan = planStage
	}
	if s.Open == nil {
		s.Open = migrate.Open
	}
	if s.Diff == nil {
		s.Diff = diffStage
	}
	if s.Migrate == nil {
		s.Migrate = migrateStage
	}
	if s.Rewrite == nil {
		s.Rewrite = rewriteStage
	}
	if s.Verify == nil {
		s.Verify = Verify
	}
	return s
}

func scanStage(ctx context.Context, paths []string, cfg Config, fp *secret.Fingerprinter, progress func(discover.Progress)) (*discover.Result, error) {
	return discover.Scan(ctx, discover.Options{Paths: paths, Workers: cfg.Concurrency, Fingerprinter: fp, Progress: progress})
}

func planStage(ctx context.Context, res *discover.Result, cfg Config) (*plan.Plan, error) {
	return plan.Build(ctx, res, plan.BuildOptions{Backend: cfg.backend(), EnvMap: cfg.EnvMap})
}

func rewriteStage(ctx context.Context, p *plan.Plan, cfg Config, fp *secret.Fingerprinter) (*rewrite.Changeset, error) {
	return rewrite.Prepare(ctx, p, rewrite.Options{Languages: langs.All(), Only: cfg.Languages, Fingerprinter: fp})
}

// Verify checks a finished migration with the verify library: the
// backend holds every value (by fingerprint), no working-tree file still
// holds one, and no code still reads a migrated variable from the
// environment (found by scanning the plan's repos again). The wizard
// uses it too.
func Verify(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) (*verify.Report, error) {
	reads := func(ctx context.Context) ([]discover.Finding, error) {
		var paths []string
		for _, r := range p.Repos {
			paths = append(paths, filepath.Join(r.Root, filepath.FromSlash(r.Name)))
		}
		res, err := discover.Scan(ctx, discover.Options{Paths: paths, Fingerprinter: fp, SkipHistory: true})
		if err != nil {
			return nil, err
		}
		var out []discover.Finding
		for _, f := range res.Findings {
			if f.Kind == discover.KindEnvRead {
				out = append(out, f)
			}
		}
		return out, nil
	}
	return verify.Run(ctx, p, verify.Options{Backend: be, Fingerprinter: fp, Reads: reads})
}

// writeJSONFile writes v as indented JSON, atomically.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := rewrite.WriteFileAtomic(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
