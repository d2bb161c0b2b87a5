package inject

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// memBackend is an in-memory backend for the logic tests; the run command's
// end-to-end test resolves against a real Vault dev server.
type memBackend struct{ m map[string]string }

func (b memBackend) Kind() string                { return plan.BackendVault }
func (b memBackend) Check(context.Context) error { return nil }
func (b memBackend) Get(_ context.Context, t plan.Target) (migrate.Current, error) {
	v, ok := b.m[t.Mount+"/"+t.Path+"#"+t.Field]
	if !ok {
		return migrate.Current{}, nil
	}
	return migrate.Current{Exists: true, Value: secret.New(v), Version: "1"}, nil
}
func (b memBackend) Put(context.Context, plan.Target, secret.Value, migrate.Metadata, migrate.Current) (string, error) {
	return "", fmt.Errorf("read-only")
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".env", ".env.local", ".env.development", ".env.production", ".env.example", ".env.prod.local", "app.env", "README.md"} {
		writeFile(t, dir, n, "")
	}
	tests := map[string][]string{
		"dev":  {".env", ".env.development", ".env.local"},
		"app":  {"app.env"},
		"prod": {".env.production", ".env.prod.local"},
		"qa":   nil,
	}
	for env, want := range tests {
		got, err := DefaultFiles(dir, env, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i] = filepath.Base(got[i])
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %v, want %v", env, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	value := "canary-" + strings.Repeat("R5", 10)
	planned := "canary-" + strings.Repeat("P4", 10)
	dir := t.TempDir()
	writeFile(t, dir, ".env", "API_KEY=vault://secret/app/api-key-dev#value\nPORT=8080\n")
	writeFile(t, dir, ".env.local", "PORT=9090\n")
	b := memBackend{m: map[string]string{
		"secret/app/api-key-dev#value":     value,
		"secret/app/db-password-dev#value": planned,
	}}
	opened := 0
	open := func(_ context.Context, pb plan.Backend) (migrate.Backend, error) {
		opened++
		if pb.Kind != plan.BackendVault || pb.Mount != "secret" {
			return nil, fmt.Errorf("unexpected backend %+v", pb)
		}
		return b, nil
	}
	p := &plan.Plan{Backend: plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, Secrets: []plan.Secret{
		{Name: "db-password-dev", Environment: "dev", EnvVar: "DB_PASSWORD", Target: plan.Target{Mount: "secret", Path: "app/db-password-dev", Field: "value"}},
		{Name: "db-password-prod", Environment: "prod", EnvVar: "DB_PASSWORD", Target: plan.Target{Mount: "secret", Path: "app/db-password-prod", Field: "value"}},
	}}
	vars, err := Resolve(context.Background(), Options{Dir: dir, Open: open, Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Var{}
	for _, v := range vars {
		got[v.Name] = v
		if strings.Contains(v.Origin, value) {
			t.Fatal("origin leaks a value")
		}
	}
	if got["API_KEY"].Value.Reveal() != value || !got["API_KEY"].Secret {
		t.Errorf("API_KEY not resolved from the backend")
	}
	if got["PORT"].Value.Reveal() != "9090" || got["PORT"].Secret {
		t.Errorf("PORT = %v from %s, want 9090 from .env.local", got["PORT"].Value.Len(), got["PORT"].Origin)
	}
	if got["DB_PASSWORD"].Value.Reveal() != planned {
		t.Errorf("plan secret not injected")
	}
	if opened != 1 {
		t.Errorf("opened the backend %d times, want once", opened)
	}

	env := Environ([]string{"PORT=1", "HOME=/h"}, vars, false)
	if !contains(env, "PORT=1") || contains(env, "PORT=9090") || !contains(env, "API_KEY="+value) {
		t.Errorf("Environ without override wrong")
	}
	env = Environ([]string{"PORT=1"}, vars, true)
	if !contains(env, "PORT=9090") {
		t.Errorf("Environ with override kept the caller's PORT")
	}

	// A reference to a missing secret is an error naming the reference, not a value.
	writeFile(t, dir, ".env", "API_KEY=vault://secret/app/missing#value\n")
	_, err = Resolve(context.Background(), Options{Dir: dir, Open: open})
	if err == nil || !strings.Contains(err.Error(), "vault://secret/app/missing#value") || !strings.Contains(err.Error(), ".env:1") {
		t.Errorf("missing secret error = %v", err)
	}
	// A malformed .env file is an error with its line.
	writeFile(t, dir, ".env", "API_KEY=\"unterminated\n")
	if _, err := Resolve(context.Background(), Options{Dir: dir, Open: open}); err == nil {
		t.Error("malformed .env accepted")
	}
}

func contains(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}

func TestExec(t *testing.T) {
	value := "canary-" + strings.Repeat("E2", 10)
	var out, errOut bytes.Buffer
	code, err := Exec(context.Background(), Command{
		Name: "sh", Args: []string{"-c", `printf %s "$SECRET" | sha256sum | cut -c1-64; exit 3`},
		Env: Environ(nil, []Var{{Name: "SECRET", Value: secret.New(value)}}, false), Stdout: &out, Stderr: &errOut,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte(value))); strings.TrimSpace(out.String()) != want {
		t.Errorf("child saw a different value (digest %q)", out.String())
	}
	if _, err := Exec(context.Background(), Command{Name: "no-such-command-e2v"}); err == nil {
		t.Error("missing command gave no error")
	}
}

func TestExecForwardsSignals(t *testing.T) {
	var out bytes.Buffer
	ready := filepath.Join(t.TempDir(), "ready")
	go func() {
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(ready); err == nil {
				_ = syscall.Kill(os.Getpid(), syscall.SIGUSR1)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, err := Exec(context.Background(), Command{
		Name: "sh", Args: []string{"-c", `trap 'echo got-usr1; exit 7' USR1; touch "$READY"; while :; do sleep 0.05; done`},
		Env: []string{"READY=" + ready, "PATH=" + os.Getenv("PATH")}, Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != 7 || !strings.Contains(out.String(), "got-usr1") {
		t.Errorf("code %d, output %q: signal not forwarded", code, out.String())
	}
}

func TestExecCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := filepath.Join(t.TempDir(), "ready")
	go func() {
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(ready); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, err := Exec(ctx, Command{Name: "sh", Args: []string{"-c", `touch "$READY"; exec sleep 30`}, Env: []string{"READY=" + ready, "PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	if code != 128+int(syscall.SIGTERM) {
		t.Errorf("code %d, want %d", code, 128+int(syscall.SIGTERM))
	}
}
