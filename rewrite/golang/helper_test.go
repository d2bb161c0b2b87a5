package golang

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
)

var helperBindings = []rewrite.Binding{
	{EnvVar: "STRIPE_SECRET_KEY", Environment: "prod", SecretName: "billing-api/stripe-secret-key-prod",
		Target: plan.Target{Mount: "secret", Path: "billing-api/stripe-secret-key-prod", Field: "value",
			Project: "acme", SecretID: "billing-api-stripe-secret-key-prod", Region: "eu-west-1", Name: "billing-api/stripe-secret-key-prod"}},
	{EnvVar: "STRIPE_SECRET_KEY", Environment: "dev", SecretName: "billing-api/stripe-secret-key-dev",
		Target: plan.Target{Mount: "secret", Path: "billing-api/stripe-secret-key-dev",
			Project: "acme", SecretID: "billing-api-stripe-secret-key-dev", Region: "eu-west-1", Name: "billing-api/stripe-secret-key-dev"}},
	{EnvVar: "DATABASE_URL", Environment: "dev", SecretName: "billing-api/database-url-dev",
		Target: plan.Target{Mount: "kv", Path: "billing-api/database-url-dev", Field: "url",
			Project: "acme", SecretID: "billing-api-database-url-dev", Name: "billing-api/database-url-dev"}},
}

var helperBackends = map[string]plan.Backend{
	"vault":   {Kind: plan.BackendVault, Mount: "secret", KVVersion: 2},
	"vault-1": {Kind: plan.BackendVault, Mount: "secret", KVVersion: 1},
	"gcp":     {Kind: plan.BackendGCP, Project: "acme"},
	"aws":     {Kind: plan.BackendAWS, Region: "us-east-1"},
}

func TestHelperSourceGolden(t *testing.T) {
	for name, b := range helperBackends {
		t.Run(name, func(t *testing.T) {
			src, err := HelperSource(b, helperBindings)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "helper", name+".golden")
			if *update {
				_ = os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(src, want) {
				t.Errorf("helper differs from %s:\n%s", golden, src)
			}
		})
	}
}

func TestHelperSourceErrors(t *testing.T) {
	b := helperBackends["vault"]
	if _, err := HelperSource(b, []rewrite.Binding{{EnvVar: "A"}}); err == nil {
		t.Error("a binding without an environment must fail")
	}
	dup := []rewrite.Binding{
		{EnvVar: "A", Environment: "dev", Target: plan.Target{Mount: "m", Path: "p1"}},
		{EnvVar: "A", Environment: "dev", Target: plan.Target{Mount: "m", Path: "p2"}},
	}
	if _, err := HelperSource(b, dup); err == nil || !strings.Contains(err.Error(), "bound twice") {
		t.Errorf("conflicting bindings: err = %v", err)
	}
	same := []rewrite.Binding{dup[0], dup[0]}
	if _, err := HelperSource(b, same); err != nil {
		t.Errorf("a repeated identical binding is fine: %v", err)
	}
	if _, err := HelperSource(plan.Backend{Kind: "azure"}, dup[:1]); err == nil {
		t.Error("unknown backend must fail")
	}
}

// TestClientModulesMatchGoMod keeps the versions the helper requires in
// step with the ones env2vault itself builds and tests against.
func TestClientModulesMatchGoMod(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mods := range clientModules {
		for _, m := range mods {
			path, ver, _ := strings.Cut(m, "@")
			re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(path) + `\s+` + regexp.QuoteMeta(ver) + `\b`)
			if !re.Match(gomod) {
				t.Errorf("%s is not required at %s in env2vault's go.mod", path, ver)
			}
		}
	}
}

// TestHelperBuildsForEveryBackend compiles each generated helper inside a
// throwaway copy of env2vault's own module graph (same versions, so the
// build cache serves the client libraries and no network is needed).
func TestHelperBuildsForEveryBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cloud clients")
	}
	root := filepath.Join("..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module example.com/helpers"))
	mustWrite(t, filepath.Join(dir, "go.mod"), mod)
	mustWrite(t, filepath.Join(dir, "go.sum"), gosum)
	var pkgs []string
	for name, b := range helperBackends {
		src, err := HelperSource(b, helperBindings)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(dir, name, "secrets.go"), src)
		pkgs = append(pkgs, "./"+name)
	}
	cmd := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generated helpers do not build: %v\n%s", err, out)
	}
}

// TestHelperRequiresClient runs the real `go get` path against a fresh
// module and builds the result, as rewrite does in a target repo.
func TestHelperRequiresClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go get")
	}
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "go.mod"), []byte("module example.com/svc\n\ngo 1.22\n"))
	mustWrite(t, filepath.Join(dir, "main.go"), []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Println(os.Getenv(\"API_KEY\") != \"\") }\n"))
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) }
	l, err := New().ForRepo(rewrite.Repo{Dir: dir, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := read("main.go")
	out, n, err := l.Rewrite("main.go", src, rewrite.Edit{Keys: map[string]bool{"API_KEY": true}})
	if err != nil || n != 1 {
		t.Fatalf("rewrite: %d, %v", n, err)
	}
	files, err := l.Helper(helperBackends["vault"], helperBindings[:1], read)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := read("go.mod")
	if string(after) != "module example.com/svc\n\ngo 1.22\n" {
		t.Fatal("Helper must not touch the repo's go.mod on disk")
	}
	mustWrite(t, filepath.Join(dir, "main.go"), out)
	var sawMod bool
	for _, f := range files {
		mustWrite(t, filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content)
		if f.Path == "go.mod" {
			sawMod = true
			if !regexp.MustCompile(`(?m)^\s*github.com/hashicorp/vault/api v1.23.0$`).Match(f.Content) {
				t.Errorf("go.mod does not require vault/api directly:\n%s", f.Content)
			}
		}
	}
	if !sawMod {
		t.Fatal("Helper returned no go.mod")
	}
	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=readonly"), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rewritten module does not build: %v\n%s", err, out)
	}
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExistingBindingsRoundTrip reads back what HelperSource wrote, so a
// later run keeps earlier bindings.
func TestExistingBindingsRoundTrip(t *testing.T) {
	for name, b := range helperBackends {
		t.Run(name, func(t *testing.T) {
			src, err := HelperSource(b, helperBindings)
			if err != nil {
				t.Fatal(err)
			}
			got, err := existingBindings(b.Kind, src)
			if err != nil {
				t.Fatal(err)
			}
			again, err := HelperSource(b, got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(src, again) {
				t.Errorf("bindings did not survive a round trip:\n%s", again)
			}
		})
	}
	if _, err := existingBindings(plan.BackendVault, []byte("package secrets\n")); err == nil || !strings.Contains(err.Error(), "not generated by env2vault") {
		t.Errorf("a hand-written helper must be refused: %v", err)
	}
}

func TestMergeBindings(t *testing.T) {
	old := []rewrite.Binding{
		{EnvVar: "A", Environment: "dev", Target: plan.Target{Path: "old-a"}},
		{EnvVar: "B", Environment: "dev", Target: plan.Target{Path: "old-b"}},
	}
	cur := []rewrite.Binding{{EnvVar: "A", Environment: "dev", Target: plan.Target{Path: "new-a"}}}
	got := mergeBindings(old, cur)
	if len(got) != 2 || got[0].Target.Path != "old-b" || got[1].Target.Path != "new-a" {
		t.Fatalf("merge = %+v", got)
	}
}
