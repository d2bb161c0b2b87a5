package javascript

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

// TestSampleWebEndToEnd rewrites the sample web backend, runs it against
// a Vault-shaped server holding its secrets, and checks it prints the
// same digests as the original reading process.env. The same program is
// also run as an ES module.
func TestSampleWebEndToEnd(t *testing.T) {
	m, err := sampleorg.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Dir, "web")
	values := map[string]string{
		"SENDGRID_API_KEY":  m.Values["sendgrid"],
		"STRIPE_SECRET_KEY": m.Values["stripe-test"],
		"SESSION_SECRET":    m.Values["session-secret"],
	}
	run := func(file string, env ...string) string {
		t.Helper()
		cmd := exec.Command(nodeBin(t), file)
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=8080"}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", file, err, redact(string(out), m))
		}
		return string(out)
	}
	var envValues []string
	for k, v := range values {
		envValues = append(envValues, k+"="+v)
	}
	before := run("src/server.js", envValues...)

	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) }
	l, err := New().(rewrite.RepoAware).ForRepo(rewrite.Repo{Dir: dir, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{"SENDGRID_API_KEY": true, "STRIPE_SECRET_KEY": true, "SESSION_SECRET": true, "VITE_MAPS_KEY": true}
	src, err := read("src/server.js")
	if err != nil {
		t.Fatal(err)
	}
	out, n, err := l.Rewrite("src/server.js", src, rewrite.Edit{Keys: keys})
	if err != nil || n != 3 {
		t.Fatalf("server.js: rewrote %d sites, %v", n, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "server.js"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same program as an ES module (a copy next to it).
	esm, n, err := l.Rewrite("src/server.mjs", []byte(strings.Replace(string(src), `const crypto = require("crypto");`, `import crypto from "node:crypto";`, 1)), rewrite.Edit{Keys: keys})
	if err != nil || n != 3 {
		t.Fatalf("server.mjs: rewrote %d sites, %v", n, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "server.mjs"), esm, 0o644); err != nil {
		t.Fatal(err)
	}
	// Browser config reading import.meta.env is left alone.
	cfg, err := read("src/config.ts")
	if err != nil {
		t.Fatal(err)
	}
	if out, n, err := l.Rewrite("src/config.ts", cfg, rewrite.Edit{Keys: keys}); err != nil || n != 0 || string(out) != string(cfg) {
		t.Errorf("config.ts: changed %d, %v", n, err)
	}

	token := randomValue(t)
	srv := kvhttptest.New(token)
	defer srv.Close()
	var bindings []rewrite.Binding
	for name, v := range values {
		path := "web/dev/" + strings.ToLower(name)
		srv.PutV2("secret", path, map[string]string{"value": v})
		bindings = append(bindings, vaultBinding("dev", name, "secret", path, "value"))
	}
	files, err := l.Helper(plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, bindings, read)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, v := range m.Planted() {
			if strings.Contains(string(f.Content), v) {
				t.Fatalf("%s holds a planted value", f.Path)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"src/server.js", "src/server.mjs"} {
		after := run(file, "VAULT_ADDR="+srv.URL, "VAULT_TOKEN="+token)
		if after != before {
			t.Errorf("%s prints\n%s\nwant (as before the rewrite)\n%s", file, redact(after, m), redact(before, m))
		}
	}
}

// redact hides planted values in output shown on failure.
func redact(s string, m sampleorg.Manifest) string {
	for _, v := range m.Planted() {
		s = strings.ReplaceAll(s, v, "[planted]")
	}
	return s
}
