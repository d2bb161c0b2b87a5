package migrate_test

// Runtime injection (`env2vault run`, package inject) against every
// backend: a real Vault dev server, and the real GCP and AWS client
// libraries against the wire-level stand-ins in migrate/internal. The
// test lives here because only packages under migrate/ may import those.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/inject"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/migrate/internal/asmfake"
	"github.com/env2vault/env2vault/migrate/internal/gsmfake"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

func TestRunInjectsFromEveryBackend(t *testing.T) {
	type setup struct {
		backend  plan.Backend
		target   plan.Target
		endpoint string
	}
	cases := map[string]func(t *testing.T) setup{
		"vault-kv2": func(t *testing.T) setup {
			env := vaulttest.Server(t)
			env.Setenv(t)
			return setup{backend: plan.Backend{Kind: plan.BackendVault, Mount: env.KV2, KVVersion: 2},
				target: plan.Target{Mount: env.KV2, Path: "web/session-secret-dev", Field: "value"}}
		},
		"vault-kv1": func(t *testing.T) setup {
			env := vaulttest.Server(t)
			env.Setenv(t)
			return setup{backend: plan.Backend{Kind: plan.BackendVault, Mount: env.KV1, KVVersion: 1},
				target: plan.Target{Mount: env.KV1, Path: "web/session-secret-dev", Field: "value"}}
		},
		"gcp": func(t *testing.T) setup {
			srv, err := gsmfake.Start(gsmfake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			return setup{backend: plan.Backend{Kind: plan.BackendGCP, Project: "acme-dev"},
				target: plan.Target{Project: "acme-dev", SecretID: "session-secret-dev"}, endpoint: srv.Addr()}
		},
		"aws": func(t *testing.T) setup {
			dir := t.TempDir()
			t.Setenv("HOME", dir)
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			t.Setenv("AWS_PROFILE", "")
			t.Setenv("AWS_ENDPOINT_URL", "")
			t.Setenv("AWS_REGION", "eu-west-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "env2vault-run-test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "env2vault-run-test-secret")
			srv, err := asmfake.Start(asmfake.Options{AccessKeyID: "env2vault-run-test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			return setup{backend: plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"},
				target: plan.Target{Region: "eu-west-1", Name: "web/session-secret-dev"}, endpoint: srv.URL()}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := mk(t)
			opts := migrate.Options{Endpoint: s.endpoint}
			b, err := migrate.Open(ctx, s.backend, opts)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			value := "canary-run-" + strings.Repeat(name[:2], 9) + "-Xy7"
			if _, err := b.Put(ctx, s.target, secret.New(value), migrate.Metadata{Name: "session-secret-dev"}, migrate.Current{}); err != nil {
				t.Fatalf("put: %v", err)
			}

			dir := t.TempDir()
			ref := plan.Reference(s.backend, s.target)
			envFile := "SESSION_SECRET=" + ref + "\nPORT=3000\n"
			if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(envFile), 0o600); err != nil {
				t.Fatal(err)
			}
			vars, err := inject.Resolve(ctx, inject.Options{Dir: dir, Open: func(ctx context.Context, pb plan.Backend) (migrate.Backend, error) {
				return migrate.Open(ctx, pb, opts)
			}})
			if err != nil {
				t.Fatalf("resolve %s: %v", ref, err)
			}
			var out, errOut bytes.Buffer
			code, err := inject.Exec(ctx, inject.Command{
				Name: "sh", Args: []string{"-c", `printf %s "$SESSION_SECRET" | sha256sum | cut -c1-64; echo "PORT=$PORT"`},
				Env: inject.Environ([]string{"PATH=" + os.Getenv("PATH")}, vars, false), Stdout: &out, Stderr: &errOut,
			})
			if err != nil || code != 0 {
				t.Fatalf("child: code %d, err %v, stderr %q", code, err, errOut.String())
			}
			want := fmt.Sprintf("%x\nPORT=3000\n", sha256.Sum256([]byte(value)))
			if out.String() != want {
				t.Errorf("child printed %q, want the value's digest and PORT=3000", out.String())
			}
			for _, v := range vars {
				if strings.Contains(v.Origin, value) {
					t.Error("a variable's origin holds the value")
				}
			}
			// The .env file on disk still holds only the reference.
			if b, _ := os.ReadFile(filepath.Join(dir, ".env")); string(b) != envFile {
				t.Error("run changed the .env file")
			}
		})
	}
}
