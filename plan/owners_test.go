package plan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCodeOwnersMatch(t *testing.T) {
	co := parseCodeOwners(`# comment
*                @acme/everyone
.env*            @acme/oncall   # trailing comment
/docs/           @acme/docs
src/**/secrets.go @acme/sec
/build/logs/     
*.js             @acme/js @dana
apps/*/config.yml @acme/apps
`)
	tests := []struct{ path, want string }{
		{"main.go", "@acme/everyone"},
		{".env", "@acme/oncall"},
		{".env.production", "@acme/oncall"},
		{"deploy/.env.staging", "@acme/oncall"},
		{"docs/readme.md", "@acme/docs"},
		{"sub/docs/readme.md", "@acme/everyone"},
		{"src/secrets.go", "@acme/sec"},
		{"src/a/b/secrets.go", "@acme/sec"},
		{"build/logs/x.log", ""},
		{"web/app.js", "@acme/js @dana"},
		{"apps/web/config.yml", "@acme/apps"},
		{"apps/web/deep/config.yml", "@acme/everyone"},
	}
	for _, tt := range tests {
		got := ""
		if owners, ok := co.match(tt.path); ok {
			got = joinSpace(owners)
		}
		if got != tt.want {
			t.Errorf("match(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func joinSpace(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// gitRepo makes a repo in a temp dir with files committed at fixed dates.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run := func(date string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.com",
			"GIT_COMMITTER_NAME=Ann Author", "GIT_COMMITTER_EMAIL=ann@example.com",
			"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date, "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("2026-01-01T10:00:00Z", "init", "-q", "-b", "main")
	write("config.yml", "a: 1\nb: 2\n")
	write("app.py", "x = 1\n")
	run("2026-01-05T10:00:00Z", "add", "-A")
	run("2026-01-05T10:00:00Z", "commit", "-q", "-m", "one")
	write("config.yml", "a: 1\nb: 3\n")
	run("2026-02-07T10:00:00Z", "commit", "-q", "-am", "two")
	write(".github/CODEOWNERS", "*.py @acme/py\n")
	write("untracked.env", "K=v\n")
	write("app.py", "x = 2\n") // changed since the last commit
	return dir
}

func TestGitLookup(t *testing.T) {
	dir := gitRepo(t)
	ctx := context.Background()
	g := NewGitLookup(nil)
	owner := func(p string) string {
		o, err := g.Owner(ctx, dir, p)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got := owner("app.py"); got != "@acme/py" {
		t.Errorf("owner of app.py = %q, want the CODEOWNERS owner", got)
	}
	if got := owner("config.yml"); got != "Ann Author <ann@example.com>" {
		t.Errorf("owner of config.yml = %q, want the last git author", got)
	}
	if got := owner("untracked.env"); got != "" {
		t.Errorf("owner of an untracked file with no CODEOWNERS entry = %q, want empty", got)
	}
	last := func(p string, line int) string {
		d, err := g.LastChanged(ctx, dir, p, line)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		path string
		line int
		want string
	}{
		{"config.yml", 1, "2026-01-05"},
		{"config.yml", 2, "2026-02-07"},
		{"config.yml", 99, "2026-02-07"},
		{"untracked.env", 1, ""},
		{"app.py", 1, ""},
		{"missing.txt", 1, ""},
	} {
		if got := last(tt.path, tt.line); got != tt.want {
			t.Errorf("LastChanged(%s:%d) = %q, want %q", tt.path, tt.line, got, tt.want)
		}
	}
	// A repo that is not on this machine answers "", not an error.
	if o, err := g.Owner(ctx, filepath.Join(dir, "nope"), "x"); o != "" || err != nil {
		t.Errorf("Owner in a missing repo = %q, %v", o, err)
	}
	if d, err := g.LastChanged(ctx, t.TempDir(), "x", 1); d != "" || err != nil {
		t.Errorf("LastChanged outside git = %q, %v", d, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewGitLookup(nil).LastChanged(cctx, dir, "config.yml", 1); err == nil {
		t.Error("LastChanged with a cancelled context succeeded")
	}
}
