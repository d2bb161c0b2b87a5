package batch

import (
	"context"
	"path/filepath"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

func diffStage(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
	if err := migrate.Diff(ctx, be, p, fp); err != nil {
		return err
	}
	p.DiffStatus = "live"
	return nil
}

// migrateStage pushes the plan, journalling beside the plan file in the
// out folder so that an interrupted run resumes when rerun.
func migrateStage(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, cfg Config, progress func(name, action string, done, total int)) (migrateSummary, error) {
	sum, err := migrate.Run(ctx, be, p, migrate.RunOptions{
		Fingerprinter: fp,
		Concurrency:   cfg.Concurrency,
		JournalPath:   migrate.JournalPath(filepath.Join(cfg.Out, FilePlan)),
		Progress: func(done, total int, r migrate.Result) {
			progress(r.Name, r.Action, done, total)
		},
	})
	if sum == nil {
		return migrateSummary{}, err
	}
	c := sum.Counts
	return migrateSummary{
		Created: c[plan.ActionCreate], Updated: c[plan.ActionUpdate], Unchanged: c[plan.ActionNoop],
		Conflicts: c[plan.ActionConflict], Failed: c[migrate.ActionFailed] + c[migrate.ActionSkipped],
	}, err
}
