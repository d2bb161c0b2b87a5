package python

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/kvhttptest"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
)

// TestSampleServiceEndToEnd rewrites the sample ML service, runs it
// against a Vault-shaped server holding its secrets, and checks that it
// prints the same digests as the original did reading the environment
// and its hardcoded token.
func TestSampleServiceEndToEnd(t *testing.T) {
	m, err := sampleorg.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Dir, "teams", "ml", "ml-service")
	values := map[string]string{
		"ANTHROPIC_API_KEY": m.Values["anthropic"],
		"OPENAI_API_KEY":    m.Values["openai"],
		"HF_TOKEN":          m.Values["huggingface"],
	}
	run := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(python(t), "app.py")
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PYTHONDONTWRITEBYTECODE=1", "DEBUG=1"}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("app.py: %v\n%s", err, redact(string(out), m))
		}
		return string(out)
	}
	before := run("ANTHROPIC_API_KEY="+values["ANTHROPIC_API_KEY"], "OPENAI_API_KEY="+values["OPENAI_API_KEY"])

	l := New()
	edits := map[string]rewrite.Edit{
		"app.py":         {Keys: map[string]bool{"ANTHROPIC_API_KEY": true, "OPENAI_API_KEY": true}},
		"ml/settings.py": {Literals: []rewrite.Literal{lit(4, values["HF_TOKEN"], "HF_TOKEN")}},
	}
	for p, e := range edits {
		src, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		out, n, err := l.Rewrite(p, src, e)
		if err != nil || n == 0 {
			t.Fatalf("%s: rewrote %d sites, %v", p, n, err)
		}
		for _, v := range m.Planted() {
			if strings.Contains(string(out), v) {
				t.Fatalf("%s still holds a planted value", p)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, p), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	token := randomValue(t)
	srv := kvhttptest.New(token)
	defer srv.Close()
	var bindings []rewrite.Binding
	for name, v := range values {
		path := "ml-service/dev/" + strings.ToLower(name)
		srv.PutV2("secret", path, map[string]string{"value": v})
		bindings = append(bindings, vaultBinding("dev", name, "secret", path, "value"))
	}
	files, err := l.Helper(plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, bindings, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	after := run("VAULT_ADDR="+srv.URL, "VAULT_TOKEN="+token)
	if after != before {
		t.Errorf("the rewritten service prints\n%s\nwant (as before the rewrite)\n%s", redact(after, m), redact(before, m))
	}
	if srv.Reads() != 3 {
		t.Errorf("%d reads from the vault, want 3", srv.Reads())
	}
}

// redact hides planted values in output shown on failure.
func redact(s string, m sampleorg.Manifest) string {
	for _, v := range m.Planted() {
		s = strings.ReplaceAll(s, v, "[planted]")
	}
	return s
}
