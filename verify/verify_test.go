package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// memBackend is an in-memory migrate.Backend for the logic tests; the
// batch and rewrite end-to-end tests run verify against a real Vault.
type memBackend struct {
	mu sync.Mutex
	m  map[string]secret.Value
}

func (b *memBackend) Kind() string                { return plan.BackendVault }
func (b *memBackend) Check(context.Context) error { return nil }
func (b *memBackend) Get(_ context.Context, t plan.Target) (migrate.Current, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[t.Path]
	return migrate.Current{Exists: ok, Value: v, Version: "1"}, nil
}
func (b *memBackend) Put(_ context.Context, t plan.Target, v secret.Value, _ migrate.Metadata, _ migrate.Current) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[t.Path] = v
	return "1", nil
}

func TestRun(t *testing.T) {
	fp, err := secret.NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	// Canary values, built at run time.
	stored := "canary-" + strings.Repeat("Q7", 12)
	leftover := "canary-" + strings.Repeat("Z9", 12)
	frontend := "canary-" + strings.Repeat("F3", 12)
	missing := "canary-" + strings.Repeat("M1", 12)

	root := t.TempDir()
	repo := filepath.Join(root, "app")
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "A=vault://secret/app/a#value\n")
	write("cmd/main.go", "package main\n\nconst b = \""+leftover+"\"\n")
	write("public/config.js", "var k = \""+frontend+"\";\n")
	write("node_modules/x/.env", "B="+leftover+"\n") // not searched

	b := &memBackend{m: map[string]secret.Value{
		"app/a": secret.New(stored),
		"app/b": secret.New(leftover),
		"app/f": secret.New(frontend),
		"app/w": secret.New("some-other-value"),
	}}
	p := &plan.Plan{
		Repos: []plan.RepoInfo{{Root: root, Name: "app"}},
		Secrets: []plan.Secret{
			{Name: "a", EnvVar: "A", Fingerprint: fp.Fingerprint(secret.New(stored)), Target: plan.Target{Path: "app/a"}},
			{Name: "b", EnvVar: "B", Fingerprint: fp.Fingerprint(secret.New(leftover)), Target: plan.Target{Path: "app/b"}},
			{Name: "f", EnvVar: "F", Fingerprint: fp.Fingerprint(secret.New(frontend)), Target: plan.Target{Path: "app/f"},
				Sources: []plan.Source{{Context: string(discover.ContextFrontend)}}},
			{Name: "m", EnvVar: "M", Fingerprint: fp.Fingerprint(secret.New(missing)), Target: plan.Target{Path: "app/m"}},
			{Name: "w", EnvVar: "W", Fingerprint: fp.Fingerprint(secret.New(missing)), Target: plan.Target{Path: "app/w"}},
		},
	}
	reads := func(context.Context) ([]discover.Finding, error) {
		return []discover.Finding{
			{Kind: discover.KindEnvRead, Repo: "app", Path: "cmd/main.go", Line: 7, Key: "A"},
			{Kind: discover.KindEnvRead, Repo: "app", Path: "cmd/main.go", Line: 8, Key: "PORT"},
			{Kind: discover.KindEnvRead, Repo: "app", Path: "web.js", Line: 2, Key: "F"},
		}, nil
	}
	rep, err := Run(context.Background(), p, Options{Backend: b, Fingerprinter: fp, Reads: reads})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, pr := range rep.Problems {
		got = append(got, strings.Join([]string{pr.Check, pr.Severity, pr.Secret, pr.Path, pr.Detail}, "|"))
	}
	want := []string{
		"backend|error|m||not in the backend",
		"backend|error|w||the backend holds a different value than the plan's fingerprint",
		"env-read|error|a|cmd/main.go|code still reads A from the environment",
		"working-tree|error|b|cmd/main.go|still holds the migrated value",
		"working-tree|warning|f|public/config.js|frontend key left in place: move it behind a backend proxy",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.OK() {
		t.Error("report with errors says OK")
	}
	if rep.Verified != 3 || rep.Files != 3 {
		t.Errorf("verified %d (want 3), searched %d files (want 3)", rep.Verified, rep.Files)
	}
	for _, pr := range rep.Problems {
		for _, v := range []string{stored, leftover, frontend, missing} {
			if strings.Contains(pr.Detail, v) || strings.Contains(pr.Path, v) {
				t.Fatalf("a problem contains a planted value")
			}
		}
	}
}
