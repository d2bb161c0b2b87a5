package tui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// canaries are planted in the fake findings' values and diffs' sources;
// no rendered view may contain any of them. They are built from parts so
// that no key-shaped literal sits in the source.
var canaries = []string{
	"sk" + "_live_" + "CANARYvalue0000000000000000001",
	"pg-" + "CANARY-password-0002",
	"sess-" + "CANARY-0003-" + strings.Repeat("q", 20),
}

// fakeResult is a small scan of a sample-org-like tree.
func fakeResult() *discover.Result {
	f := func(kind discover.Kind, repo, path string, line int, key, service string, class discover.Classification, reason, hint string, hist, tracked bool, val string) discover.Finding {
		return discover.Finding{Kind: kind, Root: "/org", Repo: repo, Path: path, Line: line, Key: key, Service: service,
			Classification: class, Reason: reason, Hint: hint, InHistory: hist, Tracked: tracked,
			Rule: "env-entry", Fingerprint: "hmac-sha256:" + fmt.Sprintf("%032x", line), Value: secret.New(val)}
	}
	return &discover.Result{
		SchemaVersion: discover.SchemaVersion,
		Roots:         []string{"/org"},
		Repos: []discover.Repo{
			{Root: "/org", Name: "billing-api", Git: true, CommittedEnvFiles: []string{".env.production"}},
			{Root: "/org", Name: "web", Git: true},
		},
		Findings: []discover.Finding{
			f(discover.KindEnvFile, "billing-api", ".env", 3, "STRIPE_SECRET_KEY", "stripe", discover.ClassSecret, "provider key pattern", "sk_live_…", true, false, canaries[0]),
			f(discover.KindEnvFile, "billing-api", ".env", 4, "DATABASE_PASSWORD", "postgres", discover.ClassSecret, "name says password", "", false, false, canaries[1]),
			f(discover.KindEnvFile, "billing-api", ".env", 5, "PORT", "", discover.ClassConfig, "plain setting", "", false, false, "8080"),
			{Kind: discover.KindHardcoded, Root: "/org", Repo: "web", Path: "src/session.ts", Line: 12, Rule: "generic-api-key", Classification: discover.ClassSecret,
				Reason: "high-entropy literal", Context: discover.ContextSource, Tracked: true, InHistory: true, Value: secret.New(canaries[2])},
			{Kind: discover.KindEnvRead, Root: "/org", Repo: "billing-api", Path: "main.go", Line: 20, Key: "STRIPE_SECRET_KEY", Language: "go"},
		},
		Stats: discover.Stats{Repos: 2, FilesScanned: 42, BytesScanned: 9000, Secrets: 3},
	}
}

// fakePlan builds a plan from the reviewed findings, like plan.Build would
// in shape (names, targets, phases), without its rules.
func fakePlan(res *discover.Result, b plan.Backend) *plan.Plan {
	p := &plan.Plan{SchemaVersion: plan.SchemaVersion, ID: "plan-fake", Roots: res.Roots, Backend: b, DiffStatus: "live"}
	for _, f := range res.Findings {
		if !f.IsSecret() {
			continue
		}
		name := strings.ToLower(f.Repo + "-" + strings.ReplaceAll(f.Key, "_", "-"))
		if f.Key == "" {
			name = f.Repo + "-session-secret"
		}
		s := plan.Secret{Name: name, Service: f.Service, Purpose: "fixture", Environment: "development", EnvVar: f.Key, Owner: "@payments",
			Fingerprint: f.Fingerprint, Target: plan.Target{Mount: b.Mount, Path: f.Repo + "/development", Field: f.Key},
			Sources: []plan.Source{{Root: f.Root, Repo: f.Repo, Path: f.Path, Line: f.Line, Kind: string(f.Kind), InHistory: f.InHistory}}}
		if f.InHistory {
			s.Rotate, s.Reasons = true, []string{"the value is in git history"}
		}
		p.Secrets = append(p.Secrets, s)
	}
	p.Phases = []plan.Phase{
		{Name: "Inventory", Items: []plan.Item{{ID: "inv-1", Text: "Confirm the owner of every secret", BestPractice: true}}},
		{Name: "Planning", Items: []plan.Item{{ID: "pln-1", Text: "Schedule the rotation of billing-api-stripe-secret-key", Secret: "billing-api-stripe-secret-key"}}},
		{Name: "Implementation", Items: []plan.Item{{ID: "imp-1", Text: "Deploy the rewritten billing-api", Repo: "billing-api"}}},
		{Name: "Rollout", Items: []plan.Item{{ID: "rol-1", Text: "Remove .env files from every server"}, {ID: "rol-2", Text: "Purge .env.production from git history", Repo: "billing-api"}}},
	}
	for _, r := range res.Repos {
		p.Repos = append(p.Repos, plan.RepoInfo{Root: r.Root, Name: r.Name, Git: r.Git, CommittedEnvFiles: r.CommittedEnvFiles})
	}
	return p
}

// memBackend is an in-memory migrate.Backend.
type memBackend struct {
	mu       sync.Mutex
	data     map[string]secret.Value
	checkErr error
	puts     int
}

func newMemBackend() *memBackend { return &memBackend{data: map[string]secret.Value{}} }

func (b *memBackend) Kind() string                    { return plan.BackendVault }
func (b *memBackend) Check(ctx context.Context) error { return b.checkErr }
func (b *memBackend) Get(ctx context.Context, t plan.Target) (migrate.Current, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.data[t.Path+"#"+t.Field]
	return migrate.Current{Exists: ok, Value: v}, nil
}
func (b *memBackend) Put(ctx context.Context, t plan.Target, v secret.Value, m migrate.Metadata, prev migrate.Current) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data[t.Path+"#"+t.Field] = v
	b.puts++
	return "1", nil
}

// fakeEnv is a set of fake services over one in-memory backend, recording
// what the wizard asked for.
type fakeEnv struct {
	be       *memBackend
	res      *discover.Result
	values   map[string]secret.Value // fingerprint -> value
	mu       sync.Mutex
	ignored  []string
	applied  []string
	exported string
	planned  *discover.Result
}

func newFakeEnv() *fakeEnv {
	e := &fakeEnv{be: newMemBackend(), res: fakeResult(), values: map[string]secret.Value{}}
	for _, f := range e.res.Findings {
		e.values[f.Fingerprint] = f.Value
	}
	return e
}

func (e *fakeEnv) services() Services {
	return Services{
		Scan: func(ctx context.Context, roots []string, progress func(ScanProgress)) (*discover.Result, error) {
			for i := 1; i <= 3; i++ {
				progress(ScanProgress{Files: i * 14, Findings: i, Current: "billing-api/.env"})
			}
			return e.res, nil
		},
		Ignore: func(ctx context.Context, f discover.Finding) (string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.ignored = append(e.ignored, fmt.Sprintf("%s:%d", f.Path, f.Line))
			return f.Repo + "/.env2vaultignore", nil
		},
		Open: func(ctx context.Context, b plan.Backend) (migrate.Backend, error) {
			if b.Mount == "" {
				return nil, errors.New("no mount")
			}
			return e.be, nil
		},
		Plan: func(ctx context.Context, res *discover.Result, b plan.Backend) (*plan.Plan, error) {
			e.mu.Lock()
			e.planned = res
			e.mu.Unlock()
			return fakePlan(res, b), nil
		},
		Diff: func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]DiffRow, error) {
			var rows []DiffRow
			for _, s := range p.Secrets {
				cur, err := be.Get(ctx, s.Target)
				if err != nil {
					return nil, err
				}
				a := plan.ActionCreate
				if cur.Exists {
					a = plan.ActionNoop
				}
				rows = append(rows, DiffRow{Secret: s.Name, Target: plan.Reference(p.Backend, s.Target), Action: a})
			}
			return rows, nil
		},
		Migrate: func(ctx context.Context, be migrate.Backend, p *plan.Plan, progress func(MigrateProgress)) (MigrateResult, error) {
			var r MigrateResult
			for i, s := range p.Secrets {
				if _, err := be.Put(ctx, s.Target, e.values[s.Fingerprint], migrate.Metadata{Name: s.Name}, migrate.Current{}); err != nil {
					return r, err
				}
				r.Created++
				cur, _ := be.Get(ctx, s.Target)
				r.Rows = append(r.Rows, DiffRow{Secret: s.Name, Target: plan.Reference(p.Backend, s.Target), Action: plan.ActionCreate,
					Verified: cur.Exists && cur.Value.Equal(e.values[s.Fingerprint])})
				progress(MigrateProgress{Done: i + 1, Total: len(p.Secrets), Secret: s.Name, Action: plan.ActionCreate})
			}
			return r, nil
		},
		Verify: func(ctx context.Context, be migrate.Backend, p *plan.Plan) ([]VerifyRow, error) {
			var rows []VerifyRow
			for _, s := range p.Secrets {
				cur, _ := be.Get(ctx, s.Target)
				rows = append(rows, VerifyRow{Check: "backend", Subject: s.Name, OK: cur.Exists && cur.Value.Equal(e.values[s.Fingerprint]), Detail: "differs"})
			}
			return rows, nil
		},
		Rewrite: func(ctx context.Context, p *plan.Plan) (*Changes, error) {
			return &Changes{
				Files: []FileDiff{
					{Repo: "billing-api", Path: ".env", Diff: "--- a/.env\n+++ b/.env\n@@ -3,2 +3,2 @@\n-STRIPE_SECRET_KEY=[REDACTED]\n+STRIPE_SECRET_KEY=vault://secret/billing-api/development#STRIPE_SECRET_KEY\n-DATABASE_PASSWORD=[REDACTED]\n+DATABASE_PASSWORD=vault://secret/billing-api/development#DATABASE_PASSWORD\n"},
					{Repo: "billing-api", Path: "main.go", Diff: "--- a/main.go\n+++ b/main.go\n@@ -20,1 +20,1 @@\n-\tkey := os.Getenv(\"STRIPE_SECRET_KEY\")\n+\tkey := secrets.Get(\"STRIPE_SECRET_KEY\")\n"},
					{Repo: "web", Path: "src/session.ts", Diff: "--- a/src/session.ts\n+++ b/src/session.ts\n@@ -12,1 +12,1 @@\n-const secret = \"[REDACTED]\";\n+const secret = await getSecret(\"SESSION_SECRET\");\n"},
				},
				Apply: func(ctx context.Context, only func(string) bool) ([]string, error) {
					var out []string
					for _, k := range []string{"billing-api/.env", "billing-api/main.go", "web/src/session.ts"} {
						if only(k) {
							out = append(out, k)
						}
					}
					e.mu.Lock()
					e.applied = out
					e.mu.Unlock()
					return out, nil
				},
			}, nil
		},
		Export: func(ctx context.Context, dir string, res *discover.Result, p *plan.Plan) ([]string, error) {
			e.mu.Lock()
			e.exported = dir
			e.mu.Unlock()
			files := []string{"plan.yaml", "report.md", "checklist-inventory.md", "checklist-planning.md", "checklist-implementation.md", "checklist-rollout.md"}
			sort.Strings(files)
			return files, nil
		},
	}
}
