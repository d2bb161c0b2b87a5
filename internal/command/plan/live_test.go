package plan

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// TestLiveDiffVault plans the sample org against a real Vault that
// already holds some of its secrets: the planted value (no-op), another
// value (update) and a number where text belongs (conflict).
func TestLiveDiffVault(t *testing.T) {
	env := vaulttest.Server(t)
	env.Setenv(t)
	t.Setenv(secret.KeyEnv, "env2vault-golden-fingerprint-key")
	ctx := context.Background()
	org := filepath.Join(t.TempDir(), "org")
	m, err := sampleorg.Build(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	kv := env.Client.KVv2(env.KV2)
	put := func(path string, data map[string]any) {
		t.Helper()
		if _, err := kv.Put(ctx, path, data); err != nil {
			t.Fatalf("seeding %s: %v", path, err)
		}
	}
	put("billing-api/stripe-secret-key-prod", map[string]any{"value": m.Values["stripe-live"]})
	put("billing-api/postgres-database-url-dev", map[string]any{"value": "postgres://someone:else@db/x"})
	put("web/sendgrid-api-key-dev", map[string]any{"value": 42})

	ios, _, _, errOut := cli.Test()
	out := filepath.Join(t.TempDir(), "plan.yaml")
	err = Run(ctx, &Options{IO: ios, Paths: []string{org}, Output: out, Format: "json",
		Backend: plan.Backend{Kind: plan.BackendVault, Mount: env.KV2, KVVersion: 2}})
	if code := cli.Code(err); code != cli.ExitFound {
		t.Fatalf("exit %d: %v\n%s", code, err, errOut)
	}
	p, err := plan.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.DiffStatus != "live" {
		t.Fatalf("DiffStatus = %q, want live", p.DiffStatus)
	}
	want := map[string]string{
		"stripe-secret-key-prod":    plan.ActionNoop,
		"postgres-database-url-dev": plan.ActionUpdate,
		"sendgrid-api-key-dev":      plan.ActionConflict,
		"stripe-secret-key-dev":     plan.ActionCreate,
	}
	for _, s := range p.Secrets {
		if w, ok := want[s.Name]; ok && s.Action != w {
			t.Errorf("%s: action %s, want %s", s.Name, s.Action, w)
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("secrets missing from the plan: %v", want)
	}
}
