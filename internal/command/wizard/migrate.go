package wizard

import (
	"context"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/tui"
)

// diff runs migrate.Diff and lists each secret's action.
func diff(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) ([]tui.DiffRow, error) {
	if err := migrate.Diff(ctx, be, p, fp); err != nil {
		return nil, err
	}
	p.DiffStatus = "live"
	rows := make([]tui.DiffRow, 0, len(p.Secrets))
	for _, s := range p.Secrets {
		rows = append(rows, tui.DiffRow{Secret: s.Name, Target: migrate.TargetString(p.Backend.Kind, s.Target), Action: s.Action})
	}
	return rows, nil
}

// push runs migrate.Run with a journal at journal, so that a push
// stopped by Ctrl+C resumes when run again.
func push(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, journal string, progress func(tui.MigrateProgress)) (tui.MigrateResult, error) {
	sum, err := migrate.Run(ctx, be, p, migrate.RunOptions{
		Fingerprinter: fp,
		JournalPath:   journal,
		Progress: func(done, total int, r migrate.Result) {
			progress(tui.MigrateProgress{Done: done, Total: total, Secret: r.Name, Action: r.Action})
		},
	})
	if sum == nil {
		return tui.MigrateResult{}, err
	}
	c := sum.Counts
	res := tui.MigrateResult{
		Created: c[plan.ActionCreate], Updated: c[plan.ActionUpdate], Unchanged: c[plan.ActionNoop],
		Conflicts: c[plan.ActionConflict], Failed: c[migrate.ActionFailed] + c[migrate.ActionSkipped],
	}
	for _, r := range sum.Results {
		res.Rows = append(res.Rows, tui.DiffRow{Secret: r.Name, Target: r.Target, Action: r.Action, Detail: r.Error, Verified: r.Verified})
	}
	return res, err
}
