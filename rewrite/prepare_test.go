package rewrite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/golang"
	"github.com/env2vault/env2vault/secret"
)

// Values here are obvious fakes, not provider-shaped.
const (
	apiKey   = "LITERAL-api-key-0123456789abcdef"
	mapsKey  = "LITERAL-maps-key-0123456789abcdef"
	hardcode = "LITERAL-hardcoded-0123456789abcd"
)

// fixture is a one-repo org: a .env with a secret, a config key and a
// frontend key, and a Go file reading the secret.
func fixture(t *testing.T) (root string, p *plan.Plan) {
	t.Helper()
	root = t.TempDir()
	repo := filepath.Join(root, "svc")
	write(t, filepath.Join(repo, ".env"), "API_KEY="+apiKey+"\nVITE_MAPS_KEY="+mapsKey+"\nPORT=8080\n", 0o600)
	write(t, filepath.Join(repo, "go.mod"), "module example.com/svc\n\ngo 1.22\n", 0o644)
	write(t, filepath.Join(repo, "main.go"), "package main\n\nimport \"os\"\n\nfunc main() { println(os.Getenv(\"API_KEY\"), os.Getenv(\"PORT\")) }\n", 0o644)
	write(t, filepath.Join(repo, "notes.txt"), "token: "+hardcode+"\n", 0o644)
	p = &plan.Plan{
		SchemaVersion: plan.SchemaVersion,
		Backend:       plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2},
		Secrets: []plan.Secret{
			{Name: "svc-api-key-dev", Environment: "dev", EnvVar: "API_KEY", Fingerprint: fp(t).Fingerprint(secret.New(apiKey)),
				Sources: []plan.Source{{Root: root, Repo: "svc", Path: ".env", Line: 1, Key: "API_KEY", Kind: plan.SourceEnvFile}},
				Target:  plan.Target{Mount: "secret", Path: "svc/api-key-dev", Field: "value"}},
			{Name: "svc-vite-maps-key-dev", Environment: "dev", EnvVar: "VITE_MAPS_KEY", Fingerprint: fp(t).Fingerprint(secret.New(mapsKey)),
				Sources: []plan.Source{{Root: root, Repo: "svc", Path: ".env", Line: 2, Key: "VITE_MAPS_KEY", Kind: plan.SourceEnvFile}},
				Target:  plan.Target{Mount: "secret", Path: "svc/vite-maps-key-dev", Field: "value"}},
			{Name: "svc-notes-token", Environment: "shared", EnvVar: "NOTES_TOKEN", Fingerprint: fp(t).Fingerprint(secret.New(hardcode)),
				Sources: []plan.Source{{Root: root, Repo: "svc", Path: "notes.txt", Line: 1, Kind: plan.SourceHardcoded, Context: "config"}},
				Target:  plan.Target{Mount: "secret", Path: "svc/notes-token", Field: "value"}},
		},
		Reads: []plan.Read{{Root: root, Repo: "svc", Path: "main.go", Line: 5, Key: "API_KEY", Language: "go"}},
	}
	return root, p
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func fp(t *testing.T) *secret.Fingerprinter {
	f, err := secret.NewFingerprinter([]byte("prepare-test-fingerprint-key"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// resolver finds each planted value where the plan says it is.
func resolver(vals map[string]string) func(context.Context, discover.Location) (secret.Value, error) {
	return func(_ context.Context, loc discover.Location) (secret.Value, error) {
		b, err := os.ReadFile(filepath.Join(loc.Root, loc.Repo, loc.Path))
		if err != nil {
			return secret.Value{}, err
		}
		for _, v := range vals {
			if strings.Contains(string(b), v) && strings.Contains(strings.Split(string(b), "\n")[loc.Line-1], v) {
				return secret.New(v), nil
			}
		}
		return secret.Value{}, errors.New("value not found")
	}
}

var allValues = map[string]string{"a": apiKey, "m": mapsKey, "h": hardcode}

func prepare(t *testing.T, p *plan.Plan, opts rewrite.Options) *rewrite.Changeset {
	t.Helper()
	if opts.Resolve == nil {
		opts.Resolve = resolver(allValues)
	}
	if opts.Languages == nil {
		opts.Languages = []rewrite.Language{golang.New()}
	}
	cs, err := rewrite.Prepare(context.Background(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func names(cs *rewrite.Changeset) string {
	var out []string
	for _, f := range cs.Files {
		out = append(out, f.Name())
	}
	return strings.Join(out, ",")
}

func TestPrepareAndApply(t *testing.T) {
	root, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{Fingerprinter: fp(t)})
	want := "svc/.env,svc/.env.example,svc/.gitignore,svc/.pre-commit-config.yaml,svc/go.mod,svc/go.sum,svc/internal/secrets/secrets.go,svc/main.go"
	if got := names(cs); got != want {
		t.Fatalf("files = %s\nwant    %s", got, want)
	}
	var diff bytes.Buffer
	if err := cs.Diff(&diff); err != nil {
		t.Fatal(err)
	}
	for _, v := range allValues {
		if strings.Contains(diff.String(), v) {
			t.Fatal("the diff shows a value")
		}
	}
	if !strings.Contains(diff.String(), "-API_KEY="+rewrite.Mask) || !strings.Contains(diff.String(), " VITE_MAPS_KEY="+rewrite.Mask) {
		t.Errorf("diff does not mask the .env lines:\n%s", diff.String())
	}
	var notes []string
	for _, n := range cs.Notes {
		notes = append(notes, n.Kind)
	}
	if strings.Join(notes, ",") != "frontend,skipped" {
		t.Errorf("notes = %v, want a frontend flag and the unhandled notes.txt", cs.Notes)
	}
	if got := strings.Join(cs.Secrets(), ","); got != "svc-api-key-dev,svc-notes-token" {
		t.Errorf("rewired secrets = %s (frontend keys are not rewired)", got)
	}
	// Only a subset, then the rest.
	if err := cs.Apply(context.Background(), func(n string) bool { return n == "svc/.env" }); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(filepath.Join(root, "svc", ".env"))
	if string(env) != "API_KEY=vault://secret/svc/api-key-dev#value\nVITE_MAPS_KEY="+mapsKey+"\nPORT=8080\n" {
		t.Errorf(".env after apply:\n%s", env)
	}
	if fi, _ := os.Stat(filepath.Join(root, "svc", ".env")); fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode = %v, want 0600 kept", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(root, "svc", "main.go")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "svc", "main.go")); strings.Contains(string(b), "secrets.") {
		t.Error("main.go was written though the filter excluded it")
	}
	if err := cs.Apply(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("re-applying over a written file: err = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "svc"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".env2vault-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestApplyRefusesChangedFiles(t *testing.T) {
	root, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{})
	write(t, filepath.Join(root, "svc", "main.go"), "package main\n", 0o644)
	err := cs.Apply(context.Background(), func(n string) bool { return n == "svc/main.go" })
	if err == nil || !strings.Contains(err.Error(), "svc/main.go changed since") {
		t.Fatalf("err = %v", err)
	}
	write(t, filepath.Join(root, "svc", ".pre-commit-config.yaml"), "repos: []\n", 0o644)
	err = cs.Apply(context.Background(), func(n string) bool { return n == "svc/.pre-commit-config.yaml" })
	if err == nil || !strings.Contains(err.Error(), "created since") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrepareLanguageFilterAndErrors(t *testing.T) {
	_, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{Only: []string{"py"}})
	if strings.Contains(names(cs), "main.go") {
		t.Error("--lang python rewrote Go code")
	}
	if _, err := rewrite.Prepare(context.Background(), p, rewrite.Options{Only: []string{"cobol"}}); err == nil {
		t.Error("an unknown language must be refused")
	}
	if _, err := rewrite.Prepare(context.Background(), nil, rewrite.Options{}); err == nil {
		t.Error("a nil plan must be refused")
	}
	bad := *p
	bad.Secrets = append([]plan.Secret(nil), p.Secrets...)
	bad.Secrets[0].Sources = []plan.Source{{Root: "/", Repo: "svc", Path: "../../etc/passwd", Line: 1, Kind: plan.SourceEnvFile}}
	if _, err := rewrite.Prepare(context.Background(), &bad, rewrite.Options{Resolve: resolver(allValues)}); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("a source outside the repo: err = %v", err)
	}
	// Every fingerprint differs: the key is wrong, say so.
	other, _ := secret.NewFingerprinter([]byte("some-other-fingerprint-key"))
	if _, err := rewrite.Prepare(context.Background(), p, rewrite.Options{Resolve: resolver(allValues), Fingerprinter: other, Languages: []rewrite.Language{golang.New()}}); err == nil || !strings.Contains(err.Error(), secret.KeyEnv) {
		t.Errorf("fingerprint key mismatch: err = %v", err)
	}
}

func TestPrepareReportsUnreadableSources(t *testing.T) {
	_, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{Resolve: func(context.Context, discover.Location) (secret.Value, error) {
		return secret.Value{}, errors.New("gone")
	}})
	if len(cs.Files) != 0 || len(cs.Secrets()) != 0 {
		t.Errorf("nothing can be rewired without values: files %s", names(cs))
	}
	if len(cs.Notes) != 3 {
		t.Errorf("want one note per unreadable source, got %v", cs.Notes)
	}
}

// fakeBackend holds values by target path.
type fakeBackend map[string]string

func (f fakeBackend) Kind() string                { return plan.BackendVault }
func (f fakeBackend) Check(context.Context) error { return nil }
func (f fakeBackend) Put(context.Context, plan.Target, secret.Value, migrate.Metadata, migrate.Current) (string, error) {
	return "", errors.New("read-only")
}
func (f fakeBackend) Get(_ context.Context, t plan.Target) (migrate.Current, error) {
	v, ok := f[t.Path]
	if !ok {
		return migrate.Current{}, nil
	}
	return migrate.Current{Exists: true, Value: secret.New(v)}, nil
}

func TestVerify(t *testing.T) {
	root, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{})
	ctx := context.Background()
	err := cs.Verify(ctx, rewrite.VerifyOptions{Backend: fakeBackend{}})
	if !errors.Is(err, rewrite.ErrNotMigrated) || !strings.Contains(err.Error(), "missing: svc-api-key-dev, svc-notes-token") {
		t.Fatalf("empty backend: err = %v", err)
	}
	wrong := fakeBackend{"svc/api-key-dev": "something-else", "svc/notes-token": hardcode}
	for _, o := range []rewrite.VerifyOptions{{Backend: wrong}, {Backend: wrong, Fingerprinter: fp(t)}} {
		err = cs.Verify(ctx, o)
		if !errors.Is(err, rewrite.ErrNotMigrated) || !strings.Contains(err.Error(), "different value: svc-api-key-dev") {
			t.Fatalf("wrong value: err = %v", err)
		}
		if strings.Contains(err.Error(), "something-else") || strings.Contains(err.Error(), apiKey) {
			t.Fatal("the error shows a value")
		}
	}
	good := fakeBackend{"svc/api-key-dev": apiKey, "svc/notes-token": hardcode}
	if err := cs.Verify(ctx, rewrite.VerifyOptions{Backend: good, Fingerprinter: fp(t)}); err != nil {
		t.Fatalf("not a git repo, all present: %v", err)
	}
	// A git repo with a modified tracked file is refused unless AllowDirty.
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", filepath.Join(root, "svc"), "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "main.go", "go.mod")
	git("commit", "-q", "-m", "init")
	if err := cs.Verify(ctx, rewrite.VerifyOptions{Backend: good}); err != nil {
		t.Fatalf("clean repo (untracked .env is fine): %v", err)
	}
	write(t, filepath.Join(root, "svc", "go.mod"), "module example.com/svc\n\ngo 1.23\n", 0o644)
	if err := cs.Verify(ctx, rewrite.VerifyOptions{Backend: good}); !errors.Is(err, rewrite.ErrDirty) {
		t.Fatalf("dirty repo: err = %v", err)
	}
	if err := cs.Verify(ctx, rewrite.VerifyOptions{Backend: good, AllowDirty: true}); err != nil {
		t.Fatalf("--allow-dirty: %v", err)
	}
}

func TestIsFrontend(t *testing.T) {
	for _, tc := range []struct {
		src  plan.Source
		want bool
	}{
		{plan.Source{Kind: plan.SourceEnvFile, Key: "VITE_MAPS_KEY"}, true},
		{plan.Source{Kind: plan.SourceEnvFile, Key: "NEXT_PUBLIC_STRIPE_KEY"}, true},
		{plan.Source{Kind: plan.SourceEnvFile, Key: "STRIPE_SECRET_KEY"}, false},
		{plan.Source{Kind: plan.SourceHardcoded, Context: "frontend"}, true},
		{plan.Source{Kind: plan.SourceHardcoded, Context: "source"}, false},
	} {
		if got := rewrite.IsFrontend(plan.Secret{Sources: []plan.Source{tc.src}}); got != tc.want {
			t.Errorf("IsFrontend(%+v) = %v", tc.src, got)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.txt")
	if err := rewrite.WriteFileAtomic(p, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := rewrite.WriteFileAtomic(p, []byte("two"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(b) != "two" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("content %q mode %v", b, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}
}

func TestApplyWritesThroughSymlinks(t *testing.T) {
	root, p := fixture(t)
	real := filepath.Join(root, "svc", "env.real")
	link := filepath.Join(root, "svc", ".env")
	if err := os.Rename(link, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("env.real", link); err != nil {
		t.Fatal(err)
	}
	cs := prepare(t, p, rewrite.Options{})
	if err := cs.Apply(context.Background(), func(n string) bool { return n == "svc/.env" }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf(".env is no longer a symlink: %v", err)
	}
	b, _ := os.ReadFile(real)
	if !strings.HasPrefix(string(b), "API_KEY=vault://") {
		t.Errorf("the link's target was not rewritten:\n%s", b)
	}
}

func TestNotesAreRedacted(t *testing.T) {
	_, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{Resolve: func(_ context.Context, loc discover.Location) (secret.Value, error) {
		if loc.Key == "API_KEY" {
			return secret.New(apiKey), nil
		}
		return secret.Value{}, errors.New("saw " + apiKey + " nearby")
	}})
	for _, n := range cs.Notes {
		if strings.Contains(n.String(), apiKey) {
			t.Fatalf("a note shows a value: %s", n)
		}
	}
}

// TestResumeAfterPartialApply: after only the .env file was written (a
// pick, or a run killed part-way), a new Prepare still rewires the code
// reading the key the .env now holds a reference for; Apply writes the
// generated helper first and removes temp files an interrupted write
// left.
func TestResumeAfterPartialApply(t *testing.T) {
	root, p := fixture(t)
	cs := prepare(t, p, rewrite.Options{Fingerprinter: fp(t)})
	var order []string
	if err := cs.Apply(context.Background(), func(n string) bool { order = append(order, n); return n == "svc/.env" }); err != nil {
		t.Fatal(err)
	}
	if len(order) < 3 || !strings.HasPrefix(strings.Join(order, ","), "svc/go.mod,svc/go.sum,svc/internal/secrets/secrets.go,") {
		t.Errorf("Apply order %v: the helper and go.mod/go.sum should come first", order)
	}
	stale := filepath.Join(root, "svc", ".main.go.env2vault-12345")
	write(t, stale, "package ma", 0o600)

	// Like discover.Resolve, read an .env entry's value as it is now: the
	// reference the first Apply wrote.
	values := resolver(allValues)
	resolve := func(ctx context.Context, loc discover.Location) (secret.Value, error) {
		if loc.Kind == discover.KindEnvFile {
			b, err := os.ReadFile(filepath.Join(loc.Root, loc.Repo, loc.Path))
			if err != nil {
				return secret.Value{}, err
			}
			if _, v, ok := strings.Cut(strings.Split(string(b), "\n")[loc.Line-1], "="); ok && plan.IsReference(v) {
				return secret.New(v), nil
			}
		}
		return values(ctx, loc)
	}
	cs = prepare(t, p, rewrite.Options{Fingerprinter: fp(t), Resolve: resolve})
	if got := names(cs); !strings.Contains(got, "svc/main.go") || !strings.Contains(got, "svc/internal/secrets/secrets.go") {
		t.Fatalf("after the .env was rewritten, Prepare changes only %s: main.go's read of API_KEY is not rewired", got)
	}
	if got := strings.Join(cs.Secrets(), ","); !strings.Contains(got, "svc-api-key-dev") {
		t.Errorf("rewired secrets = %s: a secret known from its reference must still be verified", got)
	}
	if err := cs.Verify(context.Background(), rewrite.VerifyOptions{Backend: fakeBackend{"svc/api-key-dev": apiKey, "svc/notes-token": hardcode}, Fingerprinter: fp(t), AllowDirty: true}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	main, _ := os.ReadFile(filepath.Join(root, "svc", "main.go"))
	helper, _ := os.ReadFile(filepath.Join(root, "svc", "internal", "secrets", "secrets.go"))
	if !strings.Contains(string(main), `secrets.Getenv("API_KEY")`) || !strings.Contains(string(helper), `"API_KEY"`) {
		t.Errorf("the resumed rewrite did not rewire API_KEY:\n%s\n%s", main, helper)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("Apply left the stale temp file of an interrupted write")
	}
}
