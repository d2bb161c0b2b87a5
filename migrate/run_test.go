package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/env2vault/env2vault/plan"
)

func runOpts(t *testing.T, src *sources, journal string) (RunOptions, *noSleep) {
	ns := &noSleep{}
	return RunOptions{
		Fingerprinter: testFingerprinter(t),
		Concurrency:   4,
		JournalPath:   journal,
		Resolve:       src.resolve,
		Sleep:         ns.sleep,
	}, ns
}

func actions(sum *Summary) []string {
	var out []string
	for _, r := range sum.Results {
		out = append(out, r.Action)
	}
	return out
}

func TestRunDecisions(t *testing.T) {
	// Each case: the plan's action, what the backend holds before the
	// run ("" nothing, "same" the planned value, "other" another value),
	// whether the source changed, and the expected outcome.
	tests := []struct {
		name          string
		planned, diff string
		holds         string
		srcChanged    bool
		want          string
		wantErr       string
		wantWrite     bool
	}{
		{name: "create", planned: plan.ActionCreate, want: plan.ActionCreate, wantWrite: true},
		{name: "create but already there", planned: plan.ActionCreate, holds: "same", want: plan.ActionNoop},
		{name: "create but another value is there", planned: plan.ActionCreate, holds: "other", want: plan.ActionConflict, wantErr: "already holds a different value"},
		{name: "live update", planned: plan.ActionUpdate, diff: "live", holds: "other", want: plan.ActionUpdate, wantWrite: true},
		{name: "live update but deleted since", planned: plan.ActionUpdate, diff: "live", want: plan.ActionConflict, wantErr: "deleted since"},
		{name: "live no-op but changed since", planned: plan.ActionNoop, diff: "live", holds: "other", want: plan.ActionConflict, wantErr: "changed since the plan"},
		{name: "live no-op", planned: plan.ActionNoop, diff: "live", holds: "same", want: plan.ActionNoop},
		{name: "planned conflict", planned: plan.ActionConflict, diff: "live", holds: "other", want: plan.ActionConflict, wantErr: "marks it as a conflict"},
		{name: "source changed", planned: plan.ActionCreate, srcChanged: true, want: plan.ActionConflict, wantErr: "changed since the plan was made"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, src := testPlan(t, "secret", 2, 1)
			p.Secrets[0].Action = tt.planned
			if tt.diff != "" {
				p.DiffStatus = tt.diff
			}
			values := src.all()
			be := newMem()
			tgt := p.Secrets[0].Target
			switch tt.holds {
			case "same":
				be.set(tgt, values[0])
			case "other":
				o := canary("other")
				values = append(values, o)
				be.set(tgt, o)
			}
			if tt.srcChanged {
				c := canary("changed")
				values = append(values, c)
				src.set(p.Secrets[0].EnvVar, c)
			}
			before := be.version(tgt)
			journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
			opts, _ := runOpts(t, src, journal)
			sum, err := Run(context.Background(), be, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := sum.Results[0]
			if r.Action != tt.want {
				t.Fatalf("action %q (%s), want %q", r.Action, r.Error, tt.want)
			}
			if !strings.Contains(r.Error, tt.wantErr) || (tt.wantErr == "") != (r.Error == "") {
				t.Errorf("error %q, want one containing %q", r.Error, tt.wantErr)
			}
			wrote := be.version(tgt) != before
			if wrote != tt.wantWrite {
				t.Errorf("wrote = %v, want %v", wrote, tt.wantWrite)
			}
			if (tt.want == plan.ActionCreate || tt.want == plan.ActionUpdate || tt.want == plan.ActionNoop) != r.Verified {
				t.Errorf("verified = %v for %s", r.Verified, r.Action)
			}
			if sum.OK() != (tt.want != plan.ActionConflict) {
				t.Errorf("OK() = %v", sum.OK())
			}
			checkNoValues(t, sum, err, journal, values)
		})
	}
}

func TestRunIdempotentAndJournal(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 20)
	be := newMem()
	journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
	opts, _ := runOpts(t, src, journal)
	sum, err := Run(context.Background(), be, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts[plan.ActionCreate] != 20 || !sum.OK() {
		t.Fatalf("first run: %v", sum.Counts)
	}
	sum2, err := Run(context.Background(), be, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Counts[plan.ActionNoop] != 20 || be.puts != 20 {
		t.Fatalf("second run: %v, %d puts in all", sum2.Counts, be.puts)
	}
	for _, r := range sum2.Results {
		if r.Version != "1" || r.Resumed || !r.Verified {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	fi, err := os.Stat(journal)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	entries, err := ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, e := range entries {
		states[e.State]++
		if e.PlanID != p.ID || e.Run == "" {
			t.Errorf("entry without plan or run: %+v", e)
		}
	}
	want := map[string]int{StateRunStarted: 2, StateRunFinished: 2, StateWriting: 20, StateWritten: 20, StateVerified: 20, StateNoop: 20}
	for k, n := range want {
		if states[k] != n {
			t.Errorf("journal has %d %q entries, want %d (all: %v)", states[k], k, n, states)
		}
	}
	checkNoValues(t, sum2, err, journal, src.all())
}

func TestRunDryRunWritesNothing(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 3)
	be := newMem()
	be.set(p.Secrets[1].Target, src.vals[p.Secrets[1].EnvVar])
	journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
	opts, _ := runOpts(t, src, journal)
	opts.DryRun = true
	sum, err := Run(context.Background(), be, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(actions(sum), ",")
	if got != "create,no-op,create" {
		t.Errorf("dry run actions %s", got)
	}
	if be.puts != 0 {
		t.Errorf("a dry run wrote %d secrets", be.puts)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote a journal: %v", err)
	}
}

func TestRunResumeAfterCrash(t *testing.T) {
	for _, applied := range []bool{false, true} {
		name := "write lost"
		if applied {
			name = "answer lost"
		}
		t.Run(name, func(t *testing.T) {
			p, src := testPlan(t, "secret", 2, 10)
			mem := newMem()
			journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
			opts, _ := runOpts(t, src, journal)
			opts.Concurrency = 1
			fb := &faultBackend{Backend: mem, failAfter: 4, applied: applied}
			sum, err := Run(context.Background(), fb, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Counts[plan.ActionCreate] != 4 || sum.Counts[ActionFailed] != 6 || sum.OK() {
				t.Fatalf("first run: %v", sum.Counts)
			}
			if !strings.Contains(sum.Results[5].Error, "connection lost") {
				t.Errorf("failure reason %q", sum.Results[5].Error)
			}
			sum2, err := Run(context.Background(), mem, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !sum2.OK() {
				t.Fatalf("rerun: %v", sum2.Counts)
			}
			for i, r := range sum2.Results {
				if v := mem.version(p.Secrets[i].Target); v != 1 {
					t.Errorf("%s has %d versions, want exactly 1", r.Name, v)
				}
				switch {
				case i < 4 && (r.Action != plan.ActionNoop || r.Resumed):
					t.Errorf("%s: done in run 1, got %+v", r.Name, r)
				case i >= 4 && applied && (r.Action != plan.ActionNoop || !r.Resumed || r.Planned != plan.ActionCreate):
					t.Errorf("%s: written but unconfirmed in run 1, want a resumed no-op, got %+v", r.Name, r)
				case i >= 4 && !applied && r.Action != plan.ActionCreate:
					t.Errorf("%s: not written in run 1, got %+v", r.Name, r)
				}
			}
			checkNoValues(t, sum2, err, journal, src.all())
		})
	}
}

func TestRunRetriesTransientFailures(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 1)
	mem := newMem()
	opts, ns := runOpts(t, src, "")
	fb := &faultBackend{Backend: mem, retryAfter: 3 * time.Second}
	fb.transientGets.Store(2)
	sum, err := Run(context.Background(), fb, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Results[0]
	if r.Action != plan.ActionCreate || r.Attempts != 3 {
		t.Fatalf("got %+v, want a create on the 3rd try", r)
	}
	if len(ns.waits) != 2 {
		t.Fatalf("waited %v, want 2 waits", ns.waits)
	}
	for _, w := range ns.waits {
		if w < 3*time.Second {
			t.Errorf("waited %s, less than Retry-After 3s", w)
		}
	}

	// Giving up.
	fb.transientGets.Store(100)
	p2, src2 := testPlan(t, "secret", 2, 1)
	opts2, ns2 := runOpts(t, src2, "")
	opts2.Retry = RetryPolicy{Attempts: 3}
	fb.retryAfter = 0
	sum, err = Run(context.Background(), fb, p2, opts2)
	if err != nil {
		t.Fatal(err)
	}
	if r := sum.Results[0]; r.Action != ActionFailed || !strings.Contains(r.Error, "gave up after 3 tries") {
		t.Errorf("got %+v", r)
	}
	if len(ns2.waits) != 2 {
		t.Errorf("waits %v, want 2", ns2.waits)
	}
}

func TestRetryPolicyWait(t *testing.T) {
	p := RetryPolicy{Base: 100 * time.Millisecond, Max: time.Second, Attempts: 10}.withDefaults()
	tr := &TransientError{Err: errors.New("503")}
	for attempt := 1; attempt < 10; attempt++ {
		d, err := p.wait(attempt, tr)
		if err != nil {
			t.Fatal(err)
		}
		backoff := min(p.Base<<(attempt-1), p.Max)
		if d < backoff/2 || d > backoff {
			t.Errorf("attempt %d: waited %s, want within [%s, %s]", attempt, d, backoff/2, backoff)
		}
	}
	if _, err := p.wait(1, errors.New("400 bad request")); err == nil {
		t.Error("a permanent error was retried")
	}
	if _, err := p.wait(1, &TransientError{Err: errors.New("429"), After: time.Hour}); err == nil || !strings.Contains(err.Error(), "asked to wait 1h0m0s") {
		t.Errorf("a Retry-After of an hour: %v", err)
	}
	if d, _ := p.wait(1, &TransientError{Err: errors.New("429"), After: 7 * time.Second}); d != 7*time.Second {
		t.Errorf("Retry-After 7s gave a wait of %s", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRunSourceProblems(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 3)
	// Secret 0: a second source that can no longer be read, while the
	// first still holds the value: migrated.
	s0 := &p.Secrets[0]
	s0.Sources = append(s0.Sources, plan.Source{Repo: "app", Path: "config.go", Line: 3, Key: "GONE", Kind: plan.SourceHardcoded})
	// Secret 1: its only source is gone: failed, naming the place.
	delete(src.vals, p.Secrets[1].EnvVar)
	// Secret 2: no sources at all.
	p.Secrets[2].Sources = nil
	opts, _ := runOpts(t, src, "")
	sum, err := Run(context.Background(), newMem(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ action, err string }{
		{plan.ActionCreate, ""},
		{ActionFailed, ".env.production:2 (KEY_001): the value is no longer there"},
		{ActionFailed, "no source"},
	}
	for i, w := range want {
		r := sum.Results[i]
		if r.Action != w.action || !strings.Contains(r.Error, w.err) || (w.err == "") != (r.Error == "") {
			t.Errorf("%s: %s %q, want %s %q", r.Name, r.Action, r.Error, w.action, w.err)
		}
	}
}

func TestRunSharedPathKeepsFields(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 4)
	for i := range p.Secrets {
		p.Secrets[i].Target.Path = "app/shared"
		p.Secrets[i].Target.Field = p.Secrets[i].EnvVar
	}
	mem := newMem()
	opts, _ := runOpts(t, src, "")
	opts.Concurrency = 4
	sum, err := Run(context.Background(), mem, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts[plan.ActionCreate] != 4 {
		t.Fatalf("%v: %+v", sum.Counts, sum.Results)
	}
	if v := mem.version(p.Secrets[0].Target); v != 4 {
		t.Errorf("shared path at version %d, want 4", v)
	}
}

func TestRunCanceled(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 5)
	ctx, cancel := context.WithCancel(context.Background())
	opts, _ := runOpts(t, src, "")
	opts.Concurrency = 1
	opts.Progress = func(done, total int, r Result) {
		if done == 2 {
			cancel()
		}
	}
	sum, err := Run(ctx, newMem(), p, opts)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v", err)
	}
	if sum.Counts[ActionSkipped] != 3 || sum.OK() {
		t.Errorf("counts %v", sum.Counts)
	}
}

func TestDiff(t *testing.T) {
	p, src := testPlan(t, "secret", 2, 3)
	mem := newMem()
	mem.set(p.Secrets[1].Target, src.vals[p.Secrets[1].EnvVar])
	mem.set(p.Secrets[2].Target, canary("other"))
	if err := Diff(context.Background(), mem, p, testFingerprinter(t)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Secrets {
		got = append(got, s.Action)
	}
	if strings.Join(got, ",") != "create,no-op,update" {
		t.Errorf("actions %v", got)
	}
	if mem.puts != 0 {
		t.Error("Diff wrote")
	}
}
