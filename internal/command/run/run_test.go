package run_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/root"
	"github.com/env2vault/env2vault/internal/vaulttest"
)

// TestRunAgainstVault runs `env2vault run` through the real command tree
// against the real Vault dev server.
func TestRunAgainstVault(t *testing.T) {
	env := vaulttest.Server(t)
	env.Setenv(t)
	value := "canary-cmd-run-" + strings.Repeat("Jq", 8)
	if _, err := env.Client.KVv2(env.KV2).Put(context.Background(), "billing-api/stripe-secret-key-dev", map[string]any{"value": value}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ref := fmt.Sprintf("vault://%s/billing-api/stripe-secret-key-dev#value", env.KV2)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("STRIPE_SECRET_KEY="+ref+"\nLOG_LEVEL=debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRIPE_SECRET_KEY", "")
	os.Unsetenv("STRIPE_SECRET_KEY")

	tests := []struct {
		name     string
		script   string
		wantCode int
		wantOut  string
	}{
		{"digest", `printf %s "$STRIPE_SECRET_KEY" | sha256sum | cut -c1-64; echo "$LOG_LEVEL"`, 0,
			fmt.Sprintf("%x\ndebug\n", sha256.Sum256([]byte(value)))},
		{"exit code passes through", `exit 5`, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := cli.Test()
			code := root.Execute(context.Background(), ios, []string{"run", "--dir", dir, "--", "sh", "-c", tt.script})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, errOut.String())
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", out.String(), tt.wantOut)
			}
			if strings.Contains(out.String()+errOut.String(), value) {
				t.Fatal("run printed the value")
			}
		})
	}

	t.Run("missing secret", func(t *testing.T) {
		bad := t.TempDir()
		missing := fmt.Sprintf("vault://%s/nowhere#value", env.KV2)
		if err := os.WriteFile(filepath.Join(bad, ".env"), []byte("X="+missing+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ios, _, _, errOut := cli.Test()
		code := root.Execute(context.Background(), ios, []string{"run", "--dir", bad, "--", "true"})
		if code != cli.ExitFailure || !strings.Contains(errOut.String(), missing) {
			t.Errorf("exit %d, stderr %q: want 2 naming the reference", code, errOut.String())
		}
	})
	t.Run("no command", func(t *testing.T) {
		ios, _, _, _ := cli.Test()
		if code := root.Execute(context.Background(), ios, []string{"run"}); code != cli.ExitFailure {
			t.Errorf("exit %d, want 2", code)
		}
	})
}
