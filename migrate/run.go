package migrate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// Result actions beyond the plan's create/update/no-op/conflict.
const (
	// ActionFailed: the secret could not be migrated (see Result.Error).
	ActionFailed = "failed"
	// ActionSkipped: the run was interrupted before the secret's turn.
	ActionSkipped = "skipped"
)

// DefaultConcurrency is how many secrets Run and Diff handle at once.
const DefaultConcurrency = 8

// RunOptions configure Run.
type RunOptions struct {
	// Fingerprinter checks values against the plan's fingerprints
	// (required; the key the plan was made with).
	Fingerprinter *secret.Fingerprinter
	// Concurrency bounds the secrets handled at once (default
	// DefaultConcurrency). Secrets sharing a Vault path are always
	// handled one after another.
	Concurrency int
	// DryRun decides every secret's action and writes nothing: not to
	// the backend, not to the journal.
	DryRun bool
	// JournalPath is the journal file (JournalPath(planFile)); "" keeps
	// no journal.
	JournalPath string
	// Resolve re-reads a value from its source; nil means discover.Resolve.
	Resolve func(ctx context.Context, loc discover.Location) (secret.Value, error)
	// Retry is the retry policy for transient backend failures.
	Retry RetryPolicy
	// Sleep waits between retries; nil waits for real (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, if set, is called after each secret, one call at a time.
	Progress func(done, total int, r Result)
}

// Result is what happened to one secret. It holds no value.
type Result struct {
	Name string `json:"name"`
	// Target is the backend location, e.g. "secret/billing-api/x#value".
	Target string `json:"target"`
	// Planned is the plan's action; Action what Run did (or, in a dry
	// run, would do): create, update, no-op, conflict, failed or skipped.
	Planned string `json:"planned"`
	Action  string `json:"action"`
	// Version is the backend version now holding the value ("" for KV v1).
	Version string `json:"version,omitempty"`
	// Verified is true once the value was read back and matched the
	// plan's fingerprint.
	Verified bool `json:"verified"`
	// Resumed marks a write an interrupted earlier run made, found
	// complete in the backend and not repeated.
	Resumed bool `json:"resumed,omitempty"`
	// Attempts is how many times the backend step was tried.
	Attempts int `json:"attempts"`
	// Error says why the secret conflicted or failed.
	Error string `json:"error,omitempty"`
}

// Summary is the outcome of a run, results in plan order.
type Summary struct {
	DryRun  bool     `json:"dry_run"`
	Results []Result `json:"results"`
	// Counts by Action.
	Counts map[string]int `json:"counts"`
}

// OK reports whether every secret ended created, updated or no-op.
func (s *Summary) OK() bool {
	return s.Counts[plan.ActionConflict]+s.Counts[ActionFailed]+s.Counts[ActionSkipped] == 0
}

// Run migrates the plan's secrets into b: for each secret it re-reads the
// value from its sources and checks it against the plan's fingerprint (a
// changed source is a conflict, never pushed), reads what the backend
// holds, and writes only what differs, with check-and-set where the
// backend has it, then reads the value back to verify it. An action the
// plan computed live that no longer holds (the backend changed since) is
// a conflict. Transient failures are retried with backoff. The journal
// records every step (no values) so an interrupted run can be re-run:
// a value already in the backend is never written twice.
//
// Per-secret problems are in the Summary; the error is for problems
// with the run itself (backend unreachable, journal not writable,
// interrupted).
func Run(ctx context.Context, b Backend, p *plan.Plan, opts RunOptions) (*Summary, error) {
	if p == nil {
		return nil, errors.New("no plan to migrate")
	}
	if opts.Fingerprinter == nil {
		return nil, errors.New("migrate: no fingerprint key to check values against")
	}
	if p.Backend.Kind != "" && b.Kind() != p.Backend.Kind {
		return nil, fmt.Errorf("the plan is for the %s backend, not %s", p.Backend.Kind, b.Kind())
	}
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	r := &runner{b: b, p: p, opts: opts, retry: opts.Retry.withDefaults()}
	if r.opts.Resolve == nil {
		r.opts.Resolve = discover.Resolve
	}
	if r.opts.Sleep == nil {
		r.opts.Sleep = sleepCtx
	}
	jpath := opts.JournalPath
	if opts.DryRun {
		jpath = ""
	}
	var err error
	if r.j, err = openJournal(jpath, p.ID); err != nil {
		return nil, err
	}
	if err := r.j.add(JournalEntry{State: StateRunStarted}); err != nil {
		r.j.close()
		return nil, err
	}

	sum := &Summary{DryRun: opts.DryRun, Results: make([]Result, len(p.Secrets)), Counts: map[string]int{}}
	for i, s := range p.Secrets {
		sum.Results[i] = Result{Name: s.Name, Target: TargetString(b.Kind(), s.Target), Planned: plannedAction(s), Action: ActionSkipped}
	}
	var (
		mu   sync.Mutex
		done int
		jerr error
	)
	forEachGroup(ctx, p.Secrets, opts.Concurrency, func(i int) {
		res, err := r.one(ctx, &p.Secrets[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil && jerr == nil {
			jerr = err
		}
		sum.Results[i] = res
		done++
		if opts.Progress != nil {
			opts.Progress(done, len(p.Secrets), res)
		}
	})
	for _, res := range sum.Results {
		sum.Counts[res.Action]++
	}
	finish := r.j.add(JournalEntry{State: StateRunFinished, Counts: sum.Counts})
	if err := errors.Join(jerr, finish, r.j.close()); err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("the migration was interrupted; re-run it to finish (nothing is written twice): %w", err)
	}
	return sum, nil
}

func plannedAction(s plan.Secret) string {
	if s.Action == "" {
		return plan.ActionCreate
	}
	return s.Action
}

// forEachGroup calls fn for each secret index, at most n at once, and
// secrets sharing a backend path (several fields of one Vault secret) in
// order on one worker. It stops starting new work when ctx is done.
func forEachGroup(ctx context.Context, secrets []plan.Secret, n int, fn func(i int)) {
	if n <= 0 {
		n = DefaultConcurrency
	}
	var groups [][]int
	byPath := map[string]int{}
	for i, s := range secrets {
		k := pathKey(s.Target)
		g, ok := byPath[k]
		if !ok {
			g = len(groups)
			byPath[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(n, len(groups)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				for _, i := range g {
					if ctx.Err() != nil {
						break
					}
					fn(i)
				}
			}
		}()
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		work <- g
	}
	close(work)
	wg.Wait()
}

func pathKey(t plan.Target) string {
	return strings.Join([]string{t.Mount, strings.Trim(t.Path, "/"), t.Project, t.SecretID, t.Region, t.Name}, "\x00")
}

// TargetString names a target for people: mount/path#field for Vault,
// projects/P/secrets/ID for GCP, region:name for AWS.
func TargetString(kind string, t plan.Target) string {
	switch kind {
	case plan.BackendGCP:
		return "projects/" + t.Project + "/secrets/" + t.SecretID
	case plan.BackendAWS:
		if t.Region == "" {
			return t.Name
		}
		return t.Region + ":" + t.Name
	default:
		f := t.Field
		if f == "" {
			f = "value"
		}
		return path.Join(t.Mount, t.Path) + "#" + f
	}
}

type runner struct {
	b     Backend
	p     *plan.Plan
	opts  RunOptions
	retry RetryPolicy
	j     *journal
}

// one migrates one secret. Its error is a journal failure only.
func (r *runner) one(ctx context.Context, s *plan.Secret) (Result, error) {
	res := Result{Name: s.Name, Target: TargetString(r.b.Kind(), s.Target), Planned: plannedAction(*s)}
	entry := JournalEntry{Secret: s.Name, Fingerprint: s.Fingerprint, Target: res.Target}
	end := func(action, msg string) (Result, error) {
		res.Action, res.Error = action, msg
		if r.opts.DryRun {
			return res, nil
		}
		e := entry
		e.Action, e.Version, e.Error = res.Planned, res.Version, msg
		switch action {
		case plan.ActionNoop:
			e.State = StateNoop
			if res.Resumed {
				e.State, e.Action = StateVerified, action
			}
		case plan.ActionCreate, plan.ActionUpdate:
			e.State, e.Action = StateVerified, action
		case plan.ActionConflict:
			e.State = StateConflict
		default:
			e.State = StateFailed
		}
		return res, r.j.add(e)
	}

	if s.Fingerprint == "" {
		return end(ActionFailed, "the plan has no fingerprint for it; re-run env2vault plan")
	}
	val, why, err := r.resolve(ctx, s)
	if err != nil {
		return end(ActionFailed, err.Error())
	}
	if why != "" {
		return end(plan.ActionConflict, why)
	}

	meta := Metadata{Name: s.Name, Service: s.Service, Environment: s.Environment, Owner: s.Owner, PlanID: r.p.ID}
	for _, src := range s.Sources {
		meta.Sources = append(meta.Sources, fmt.Sprintf("%s:%d", path.Join(src.Repo, src.Path), src.Line))
	}
	fp := r.opts.Fingerprinter
	wrote := false // a Put may have reached the backend in an earlier try
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		retry := func(err error) (bool, error) {
			d, err := r.retry.wait(attempt, err)
			if err != nil {
				return false, err
			}
			if err := r.opts.Sleep(ctx, d); err != nil {
				return false, err
			}
			return true, nil
		}

		cur, err := r.b.Get(ctx, s.Target)
		if errors.Is(err, ErrUnexpectedValue) {
			return end(plan.ActionConflict, err.Error())
		}
		if err != nil {
			if again, err := retry(err); again {
				continue
			} else {
				return end(ActionFailed, err.Error())
			}
		}
		now := liveAction(cur, s.Fingerprint, fp)
		if now == plan.ActionNoop {
			res.Version, res.Verified = cur.Version, true
			prev, pending := r.j.unconfirmed(s.Name, s.Fingerprint)
			switch {
			case wrote:
				// Our own write, whose answer was lost.
				return end(res.Planned, "")
			case pending:
				res.Resumed = true
				if prev.Action == plan.ActionCreate || prev.Action == plan.ActionUpdate {
					res.Planned = prev.Action
				}
			}
			return end(plan.ActionNoop, "")
		}
		if why := mismatch(res.Planned, now); why != "" {
			return end(plan.ActionConflict, why)
		}
		if r.opts.DryRun {
			return end(now, "")
		}

		e := entry
		e.State, e.Action, e.Version = StateWriting, now, cur.Version
		if err := r.j.add(e); err != nil {
			return res, err
		}
		ver, err := r.b.Put(ctx, s.Target, val, meta, cur)
		if errors.Is(err, ErrConflict) {
			// Someone wrote between our read and write; if it is the
			// planned value after all, there is nothing left to do.
			if again, _ := r.b.Get(ctx, s.Target); again.Exists && fp.Matches(again.Value, s.Fingerprint) {
				wrote = true
				continue
			}
			return end(plan.ActionConflict, err.Error())
		}
		if err != nil {
			wrote = true
			if again, err := retry(err); again {
				continue
			} else {
				return end(ActionFailed, err.Error())
			}
		}
		e.State, e.Version = StateWritten, ver
		if err := r.j.add(e); err != nil {
			return res, err
		}
		res.Version = ver
		if msg := r.verify(ctx, s, ver, &attempt); msg != "" {
			return end(ActionFailed, msg)
		}
		res.Verified = true
		return end(now, "")
	}
}

// verify reads the secret back; it returns a problem or "".
func (r *runner) verify(ctx context.Context, s *plan.Secret, ver string, attempt *int) string {
	for {
		got, err := r.b.Get(ctx, s.Target)
		if err != nil {
			d, err := r.retry.wait(*attempt, err)
			if err == nil {
				err = r.opts.Sleep(ctx, d)
			}
			if err != nil {
				return "written, but reading it back failed: " + err.Error()
			}
			*attempt++
			continue
		}
		if !got.Exists || !r.opts.Fingerprinter.Matches(got.Value, s.Fingerprint) {
			return fmt.Sprintf("written (version %s), but reading it back gave a different value", cmpOr(ver, "-"))
		}
		return ""
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// liveAction is what the backend's current state calls for.
func liveAction(cur Current, fingerprint string, fp *secret.Fingerprinter) string {
	switch {
	case !cur.Exists:
		return plan.ActionCreate
	case fp.Matches(cur.Value, fingerprint):
		return plan.ActionNoop
	default:
		return plan.ActionUpdate
	}
}

// mismatch explains why a planned action no longer fits the backend
// (now is create or update), or returns "".
func mismatch(planned, now string) string {
	if planned == now {
		return ""
	}
	switch planned {
	case plan.ActionConflict:
		return "the plan marks it as a conflict: resolve it, then re-run env2vault plan"
	case plan.ActionCreate:
		return "the target already holds a different value that the plan did not expect; review it, then re-run env2vault plan"
	case plan.ActionUpdate:
		return "the target was deleted since the plan was made; re-run env2vault plan"
	case plan.ActionNoop:
		return "the target changed since the plan was made; re-run env2vault plan"
	default:
		return fmt.Sprintf("the plan's action %q is unknown", planned)
	}
}

// resolve re-reads the secret's value from its sources. A source that
// now holds a different value makes the secret a conflict (why); when no
// source can be read the error says so. Sources that cannot be read
// (e.g. a file since deleted) are tolerated while another still holds
// the planned value.
func (r *runner) resolve(ctx context.Context, s *plan.Secret) (secret.Value, string, error) {
	if len(s.Sources) == 0 {
		return secret.Value{}, "", errors.New("the plan lists no source to read the value from")
	}
	var (
		val      secret.Value
		changed  []string
		firstErr error
	)
	for _, src := range s.Sources {
		loc := discover.Location{Root: src.Root, Repo: src.Repo, Path: src.Path, Line: src.Line, Key: src.Key, Rule: src.Rule, Kind: discover.Kind(src.Kind)}
		where := fmt.Sprintf("%s:%d", path.Join(src.Repo, src.Path), src.Line)
		v, err := r.opts.Resolve(ctx, loc)
		if err != nil {
			if ctx.Err() != nil {
				return secret.Value{}, "", ctx.Err()
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("cannot read the value from its source: %w", err)
			}
			continue
		}
		if !r.opts.Fingerprinter.Matches(v, s.Fingerprint) {
			changed = append(changed, where)
			continue
		}
		if val.IsZero() {
			val = v
		}
	}
	if len(changed) > 0 {
		return secret.Value{}, fmt.Sprintf("the value at %s changed since the plan was made; re-run env2vault plan", strings.Join(changed, ", ")), nil
	}
	if val.IsZero() {
		return secret.Value{}, "", firstErr
	}
	return val, "", nil
}

// Diff sets each secret's Action by comparing what b holds with the
// plan's fingerprint: create (nothing there), no-op (the planned value
// is there), update (another value is there) or conflict (something
// that is not a text value is there). It writes nothing. Transient
// failures are retried; any other failure is returned, leaving the
// actions unreliable.
func Diff(ctx context.Context, b Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
	if fp == nil {
		return errors.New("migrate: no fingerprint key to compare values with")
	}
	pol := RetryPolicy{}.withDefaults()
	var (
		mu   sync.Mutex
		errs []error
	)
	forEachGroup(ctx, p.Secrets, DefaultConcurrency, func(i int) {
		s := &p.Secrets[i]
		for attempt := 1; ; attempt++ {
			cur, err := b.Get(ctx, s.Target)
			switch {
			case errors.Is(err, ErrUnexpectedValue):
				s.Action = plan.ActionConflict
			case err != nil:
				d, werr := pol.wait(attempt, err)
				if werr == nil {
					if werr = sleepCtx(ctx, d); werr == nil {
						continue
					}
				}
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", s.Name, werr))
				mu.Unlock()
			default:
				s.Action = liveAction(cur, s.Fingerprint, fp)
			}
			return
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(errs) > 0 {
		if len(errs) > 3 {
			return fmt.Errorf("%w (and %d more)", errs[0], len(errs)-1)
		}
		return errors.Join(errs...)
	}
	return nil
}
