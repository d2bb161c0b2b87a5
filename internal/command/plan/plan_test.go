package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

const fixture = "../../../plan/testdata/sample-scan.json"

// execute runs the plan command with args and returns stdout, stderr and
// the exit code.
func execute(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	cmd := NewCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	var ee *cli.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), cli.Code(err)
}

func TestPlanFromScan(t *testing.T) {
	t.Setenv(secret.KeyEnv, "test-key-0123456789abcdef")
	out := filepath.Join(t.TempDir(), "p.yaml")
	for _, format := range []string{"text", "markdown", "json", "html"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := execute(t, "--from-scan", fixture, "--offline", "-o", out, "--format", format)
			if code != cli.ExitFound {
				t.Fatalf("exit %d, want %d (secrets to create)\n%s", code, cli.ExitFound, stderr)
			}
			p, err := plan.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Secrets) != 15 || p.DiffStatus != "offline: --offline given" {
				t.Errorf("plan: %d secrets, diff %q", len(p.Secrets), p.DiffStatus)
			}
			if !strings.Contains(stderr, "Wrote "+out) || !strings.Contains(stderr, "env2vault checklist --plan "+out) {
				t.Errorf("stderr = %q", stderr)
			}
			marker := map[string]string{"text": "env2vault plan sha256:", "markdown": "# env2vault migration plan", "json": "{\n  \"schema_version\": 1", "html": "<!doctype html>"}[format]
			if !strings.HasPrefix(stdout, marker) {
				t.Errorf("%s report starts %.60q, want %q", format, stdout, marker)
			}
		})
	}
}

func TestPlanFromScanArgs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.yaml")
	// Split the fixture's repos over two scan files; the plan merges them.
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(a, data, 0o644)
	os.WriteFile(b, data, 0o644)
	_, stderr, code := execute(t, "--from-scan", a, b, "--offline", "-o", out, "--backend", "aws", "--aws-region", "eu-west-1")
	if code != cli.ExitFound {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, err := plan.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Secrets) != 15 || p.Backend.Region != "eu-west-1" || p.Secrets[0].Target.Name == "" {
		t.Errorf("merged plan: %d secrets, backend %+v", len(p.Secrets), p.Backend)
	}
}

func TestPlanBadInput(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	dir := t.TempDir()
	out := filepath.Join(dir, "p.yaml")
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("{nope"), 0o644)
	file := filepath.Join(dir, "file.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--from-scan", fixture, "--format", "pdf"}, `unknown --format "pdf"`},
		{[]string{"--from-scan", fixture, "--backend", "gcp"}, "--gcp-project"},
		{[]string{"--from-scan", fixture, "--backend", "aws"}, "--aws-region"},
		{[]string{"--from-scan", fixture, "--backend", "azure"}, `unknown backend "azure"`},
		{[]string{"--from-scan", fixture, "--env-map", "qa"}, "--env-map"},
		{[]string{"--from-scan", fixture, "--owner", "web"}, "--owner"},
		{[]string{"--from-scan", fixture, "--name-template", "{{.Nope}}"}, "name template"},
		{[]string{"--from-scan", notJSON}, "not scan JSON"},
		{[]string{"--from-scan", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{filepath.Join(dir, "missing")}, "cannot scan"},
		{[]string{file}, "not a folder"},
	}
	for _, tt := range tests {
		_, stderr, code := execute(t, append(tt.args, "--offline", "-o", out)...)
		if code != cli.ExitFailure || !strings.Contains(stderr, tt.want) {
			t.Errorf("plan %v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed plan wrote the plan file")
	}
}

// memBackend is an in-memory migrate.Backend for the live diff tests.
type memBackend struct{ checkErr error }

func (memBackend) Kind() string                      { return plan.BackendVault }
func (m memBackend) Check(ctx context.Context) error { return m.checkErr }
func (memBackend) Get(context.Context, plan.Target) (migrate.Current, error) {
	return migrate.Current{}, nil
}
func (memBackend) Put(context.Context, plan.Target, secret.Value, migrate.Metadata, migrate.Current) (string, error) {
	return "", errors.New("read-only")
}

func runOpts(t *testing.T, o *Options) (*plan.Plan, string, int) {
	t.Helper()
	t.Setenv(secret.KeyEnv, "test-key-0123456789abcdef")
	ios, _, _, errOut := cli.Test()
	o.IO = ios
	o.FromScan = []string{fixture}
	o.Format = "text"
	o.Output = filepath.Join(t.TempDir(), "p.yaml")
	o.Backend.Kind = plan.BackendVault
	err := Run(context.Background(), o)
	var ee *cli.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		t.Fatalf("Run: %v", err)
	}
	p, lerr := plan.Load(o.Output)
	if lerr != nil {
		t.Fatal(lerr)
	}
	return p, errOut.String(), cli.Code(err)
}

func TestPlanLiveDiff(t *testing.T) {
	opened := false
	p, _, code := runOpts(t, &Options{
		Open: func(ctx context.Context, b plan.Backend, _ migrate.Options) (migrate.Backend, error) {
			opened = true
			return memBackend{}, nil
		},
		Diff: func(ctx context.Context, b migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
			for i := range p.Secrets {
				p.Secrets[i].Action = plan.ActionNoop
			}
			p.Secrets[0].Action = plan.ActionConflict
			return nil
		},
	})
	if !opened || p.DiffStatus != "live" {
		t.Fatalf("diff status %q (opened %v)", p.DiffStatus, opened)
	}
	if p.Secrets[0].Action != plan.ActionConflict || p.Secrets[1].Action != plan.ActionNoop {
		t.Errorf("actions not kept: %s, %s", p.Secrets[0].Action, p.Secrets[1].Action)
	}
	if code != cli.ExitFound {
		t.Errorf("exit %d with a conflict, want 1", code)
	}
	found := false
	for _, it := range p.Phases[1].Items {
		found = found || it.ID == "planning.conflict."+p.Secrets[0].Name
	}
	if !found {
		t.Error("no planning item for the conflict")
	}

	// Nothing to do: exit 0.
	_, _, code = runOpts(t, &Options{
		Open: func(context.Context, plan.Backend, migrate.Options) (migrate.Backend, error) {
			return memBackend{}, nil
		},
		Diff: func(ctx context.Context, b migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
			for i := range p.Secrets {
				p.Secrets[i].Action = plan.ActionNoop
			}
			return nil
		},
	})
	if code != cli.ExitOK {
		t.Errorf("exit %d when everything is no-op, want 0", code)
	}
}

func TestPlanOffline(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"flag", Options{Offline: true, Open: func(context.Context, plan.Backend, migrate.Options) (migrate.Backend, error) {
			t.Error("--offline opened the backend")
			return nil, errors.New("x")
		}}, "offline: --offline given"},
		{"open fails", Options{Open: func(context.Context, plan.Backend, migrate.Options) (migrate.Backend, error) {
			return nil, errors.New("no Vault token (set VAULT_TOKEN)\nmore")
		}}, "offline: no Vault token (set VAULT_TOKEN)"},
		{"check fails", Options{Open: func(context.Context, plan.Backend, migrate.Options) (migrate.Backend, error) {
			return memBackend{checkErr: errors.New("connection refused")}, nil
		}}, "offline: cannot reach the vault backend: connection refused"},
		{"diff fails", Options{
			Open: func(context.Context, plan.Backend, migrate.Options) (migrate.Backend, error) {
				return memBackend{}, nil
			},
			Diff: func(ctx context.Context, b migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
				p.Secrets[0].Action = plan.ActionNoop // half-done work must not survive
				return errors.New("the live diff is being built")
			},
		}, "offline: the live diff failed: the live diff is being built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, code := runOpts(t, &tt.o)
			if p.DiffStatus != tt.want {
				t.Errorf("DiffStatus = %q, want %q", p.DiffStatus, tt.want)
			}
			for _, s := range p.Secrets {
				if s.Action != plan.ActionCreate {
					t.Errorf("%s: action %s offline, want create", s.Name, s.Action)
				}
			}
			if code != cli.ExitFound {
				t.Errorf("exit %d, want 1", code)
			}
		})
	}
}
