package history

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/secret"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// token builds a value at run time so no key-shaped literal is committed.
func token(parts ...string) string { return strings.Join(parts, "") }

func TestHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	committed := token("committed", "-value-", strings.Repeat("x", 3000))
	encoded := token("only", "-in-", "base64")
	onBranch := token("side", "-branch-", "value")
	never := token("never", "-committed")
	big := strings.Repeat("a", chunk-5) + committed // straddles a chunk boundary

	git(t, dir, "init", "-q", "-b", "main")
	write(t, dir, ".env.production", "KEY="+committed+"\n")
	write(t, dir, "k8s/secret.yaml", "data:\n  K: "+base64.StdEncoding.EncodeToString([]byte(encoded))+"\n")
	write(t, dir, "big.txt", big)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "one")
	git(t, dir, "rm", "-q", "--cached", ".env.production")
	git(t, dir, "commit", "-q", "-m", "two")
	git(t, dir, "checkout", "-q", "-b", "side")
	write(t, dir, "config/app.env", "X="+onBranch+"\n")
	git(t, dir, "add", "config/app.env")
	git(t, dir, "commit", "-q", "-m", "side")
	git(t, dir, "checkout", "-q", "main")
	write(t, dir, ".env", "NEVER="+never+"\n")

	vals := []secret.Value{secret.New(committed), secret.New(encoded), secret.New(onBranch), secret.New(never), {}}
	got, err := Search(ctx, dir, vals)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]bool{true, true, true, false, false}, got); d != "" {
		t.Errorf("Search (-want +got):\n%s", d)
	}

	tracked, err := Tracked(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !tracked["k8s/secret.yaml"] || tracked[".env.production"] || tracked[".env"] || tracked["config/app.env"] {
		t.Errorf("Tracked = %v", tracked)
	}

	env := func(p string) bool {
		b := filepath.Base(p)
		return strings.HasPrefix(b, ".env") || strings.HasSuffix(b, ".env")
	}
	paths, err := CommittedPaths(ctx, dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{".env.production", "config/app.env"}, paths); d != "" {
		t.Errorf("CommittedPaths (-want +got):\n%s", d)
	}
	if !IsRepo(dir) || IsRepo(filepath.Join(dir, "k8s")) {
		t.Error("IsRepo wrong")
	}
}

func TestEmptyRepo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	got, err := Search(ctx, dir, []secret.Value{secret.New("anything")})
	if err != nil || got[0] {
		t.Fatalf("Search = %v, %v", got, err)
	}
	paths, err := CommittedPaths(ctx, dir, func(string) bool { return true })
	if err != nil || len(paths) != 0 {
		t.Fatalf("CommittedPaths = %v, %v", paths, err)
	}
}

func TestNotARepo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	_, err := Tracked(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "git ls-files") {
		t.Fatalf("err = %v", err)
	}
}
