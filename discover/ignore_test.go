package discover

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIgnoreRules(t *testing.T) {
	f := func(p string, line int, key, rule string) *Finding {
		return &Finding{Repo: "web", Path: p, Line: line, Key: key, Rule: rule, Fingerprint: "hmac-sha256:aa"}
	}
	cases := []struct {
		line string
		f    *Finding
		want bool
	}{
		{"hmac-sha256:aa", f("x", 1, "", ""), true},
		{"hmac-sha256:bb", f("x", 1, "", ""), false},
		{"/config/.env:API_KEY", f("config/.env", 3, "API_KEY", ""), true},
		{"/config/.env:API_KEY", f("config/.env", 3, "OTHER", ""), false},
		{"/config/.env:API_KEY", f("a/config/.env", 3, "API_KEY", ""), false},
		{"/src/app.js:12", f("src/app.js", 12, "", "r"), true},
		{"/src/app.js:12", f("src/app.js", 13, "", "r"), false},
		{"docs/", f("docs/a/b.md", 1, "", ""), true},
		{"docs/**", f("docs/a/b.md", 1, "", ""), true},
		{"docs/**", f("x/docs/a.md", 1, "", ""), false},
		{"docs", f("x/docs/a.md", 1, "", ""), true},
		{"*.md", f("a/b/c.md", 1, "", ""), true},
		{"*.md", f("a/b/c.mdx", 1, "", ""), false},
		{"**/fixtures/*.json:aws-*", f("fixtures/k.json", 1, "", "aws-access-token"), true},
		{"**/fixtures/*.json:aws-*", f("a/b/fixtures/k.json", 1, "", "aws-access-token"), true},
		{"**/fixtures/*.json:aws-*", f("a/b/fixtures/k.json", 1, "", "github-pat"), false},
		{".env.test:*_URL", f("svc/.env.test", 4, "DB_URL", ""), true},
		{".env.test:*_URL", f("svc/.env.test", 4, "DB_PASS", ""), false},
	}
	for _, c := range cases {
		r, err := parseIgnoreLine(c.line)
		if err != nil || r == nil {
			t.Fatalf("parseIgnoreLine(%q) = %v, %v", c.line, r, err)
		}
		if got := r.match(c.f); got != c.want {
			t.Errorf("%q matching %s:%d key %q rule %q = %v, want %v", c.line, c.f.Path, c.f.Line, c.f.Key, c.f.Rule, got, c.want)
		}
	}
	for _, bad := range []string{"/x:0", "x:", ":3", "hmac-sha256:", "hmac-sha256:aa bb", "[:3"} {
		if _, err := parseIgnoreLine(bad); err == nil {
			t.Errorf("parseIgnoreLine(%q) should fail", bad)
		}
	}
	for _, blank := range []string{"", "  ", "# comment"} {
		if r, err := parseIgnoreLine(blank); r != nil || err != nil {
			t.Errorf("parseIgnoreLine(%q) = %v, %v", blank, r, err)
		}
	}
}

func TestGitleaksIgnore(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{GitleaksIgnoreFile: "# c\nsrc/a.go:generic-api-key:4\nweb/src/b.go:r:2\nabc123:src/c.go:r:1\nnot-an-entry\n"})
	ig, err := LoadIgnores(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    Finding
		want bool
	}{
		{Finding{Repo: "web", Path: "src/a.go", Rule: "generic-api-key", Line: 4}, true},
		{Finding{Repo: "web", Path: "src/a.go", Rule: "generic-api-key", Line: 5}, false},
		{Finding{Repo: "web", Path: "src/b.go", Rule: "r", Line: 2}, true},
		{Finding{Repo: "web", Path: "src/c.go", Rule: "r", Line: 1}, false},
	} {
		if got := ig.Match(&c.f); got != c.want {
			t.Errorf("Match(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

func TestLoadIgnoresBadLine(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{IgnoreFile: "ok.txt\n/x:0\n"})
	_, err := LoadIgnores(dir)
	if err == nil || !strings.Contains(err.Error(), "line 2: line numbers start at 1") {
		t.Fatalf("err = %v", err)
	}
	if err := AppendIgnore(dir, "a\nb"); err == nil {
		t.Error("multi-line entries must be refused")
	}
	if err := AppendIgnore(dir, "   "); err == nil {
		t.Error("empty entries must be refused")
	}
	// Appending to a file without a final newline keeps lines apart.
	os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("first"), 0o644)
	if err := AppendIgnore(dir, "second"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, IgnoreFile))
	if string(b) != "first\nsecond\n" {
		t.Errorf("file = %q", b)
	}
}
