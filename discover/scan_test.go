package discover

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/secret"
)

// fakeDetector finds "FAKEKEY_" tokens, so the walker's tests do not
// depend on the real rules.
type fakeDetector struct{}

var fakeKey = regexp.MustCompile(`FAKEKEY_[A-Za-z0-9]+`)

func (fakeDetector) Hardcoded(path string, content []byte) []Finding {
	var out []Finding
	for i, line := range strings.Split(string(content), "\n") {
		for _, loc := range fakeKey.FindAllStringIndex(line, -1) {
			out = append(out, Finding{Line: i + 1, Column: loc[0] + 1, Rule: "fake-key", Service: "fake",
				Context: ContextSource, Hint: "FAKEKEY_…", Value: secret.New(line[loc[0]:loc[1]])})
		}
	}
	return out
}

func (fakeDetector) ClassifyEntry(key string, v secret.Value) Verdict {
	switch s := v.Reveal(); {
	case strings.HasPrefix(s, "FAKEKEY_"):
		return Verdict{Class: ClassSecret, Rule: "fake-key", Service: "fake", Reason: "fake key format", Hint: "FAKEKEY_…"}
	case strings.HasSuffix(key, "_SECRET") && s != "" && s != "changeme":
		return Verdict{Class: ClassSecret, Rule: "keyword", Reason: "secret-sounding name"}
	case s == "" || s == "changeme":
		return Verdict{Class: ClassPlaceholder, Reason: "placeholder"}
	default:
		return Verdict{Class: ClassConfig, Reason: "plain setting"}
	}
}

func (fakeDetector) ComposeEnvFiles(content []byte) []string {
	var out []string
	in := false
	for _, line := range strings.Split(string(content), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "env_file:":
			in = true
		case in && strings.HasPrefix(t, "- "):
			out = append(out, strings.TrimPrefix(t, "- "))
		default:
			in = false
		}
	}
	return out
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

type row struct {
	Repo, Path string
	Line       int
	Kind       Kind
	Key, Class string
	Hist, Trk  bool
}

func rows(res *Result) []row {
	var out []row
	for _, f := range res.Findings {
		out = append(out, row{f.Repo, f.Path, f.Line, f.Kind, f.Key, string(f.Classification), f.InHistory, f.Tracked})
	}
	return out
}

func testScan(t *testing.T, opts Options) *Result {
	t.Helper()
	if opts.Detector == nil {
		opts.Detector = fakeDetector{}
	}
	res, err := Scan(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestScanOrg(t *testing.T) {
	org := t.TempDir()
	k1 := "FAKEKEY_" + strings.Repeat("a", 12)
	k2 := "FAKEKEY_" + strings.Repeat("b", 12)
	writeTree(t, org, map[string]string{
		"notes.txt":               "shared " + k2 + "\n",
		"api/.env":                "# dev\nAPI_KEY=" + k1 + "\nPORT=8080\nSESSION_SECRET=changeme\n",
		"api/.env.example":        "API_KEY=\nAPP_SECRET=not-a-real-one\n",
		"api/main.go":             "package main\n\nimport \"os\"\n\nvar k = \"" + k2 + "\"\n\nfunc main() { _ = os.Getenv(\"API_KEY\"); _ = os.Getenv(\"MISSING\") }\n",
		"api/compose.yaml":        "services:\n  a:\n    env_file:\n      - config/app.conf\n",
		"api/config/app.conf":     "CONF_TOKEN=" + k2 + "\n",
		"api/node_modules/x/.env": "NPM=" + k1 + "\n",
		"api/sub/lib/.env":        "NESTED=1\n",
		"team/svc/app.py":         "import os\nos.environ['ONLY_READ']\n",
		"team/svc/.env":           "UNUSED_KEY=1\n",
	})
	gitRun(t, filepath.Join(org, "api"), "init", "-q")
	gitRun(t, filepath.Join(org, "api"), "add", "main.go", ".env.example")
	gitRun(t, filepath.Join(org, "api"), "commit", "-q", "-m", "x")
	gitRun(t, filepath.Join(org, "api", "sub"), "init", "-q")
	gitRun(t, filepath.Join(org, "team", "svc"), "init", "-q")

	fp, err := secret.NewFingerprinter([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	res := testScan(t, Options{Paths: []string{org}, Fingerprinter: fp})
	want := []row{
		{".", "notes.txt", 1, KindHardcoded, "", "secret", false, false},
		{"api", ".env", 2, KindEnvFile, "API_KEY", "secret", false, false},
		{"api", ".env", 3, KindEnvFile, "PORT", "config", false, false},
		{"api", ".env", 4, KindEnvFile, "SESSION_SECRET", "placeholder", false, false},
		{"api", ".env.example", 1, KindEnvFile, "API_KEY", "placeholder", false, true},
		{"api", ".env.example", 2, KindEnvFile, "APP_SECRET", "placeholder", false, true},
		// Same value as main.go's committed key: in history.
		{"api", "config/app.conf", 1, KindEnvFile, "CONF_TOKEN", "secret", true, false},
		{"api", "main.go", 5, KindHardcoded, "", "secret", true, true},
		{"api", "main.go", 7, KindEnvRead, "API_KEY", "", false, true},
		{"api", "main.go", 7, KindEnvRead, "MISSING", "", false, true},
		{"api/sub", "lib/.env", 1, KindEnvFile, "NESTED", "config", false, false},
		{"team/svc", ".env", 1, KindEnvFile, "UNUSED_KEY", "config", false, false},
		{"team/svc", "app.py", 2, KindEnvRead, "ONLY_READ", "", false, false},
	}
	if d := cmp.Diff(want, rows(res)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	var repos []string
	for _, r := range res.Repos {
		repos = append(repos, r.Name)
	}
	if d := cmp.Diff([]string{".", "api", "api/sub", "team/svc"}, repos); d != "" {
		t.Errorf("repos (-want +got):\n%s", d)
	}
	// The hardcoded key in notes.txt and in main.go and the .env entry in
	// config/app.conf are one value: one fingerprint.
	fps := map[string]string{}
	for _, f := range res.Findings {
		if f.IsSecret() {
			fps[f.Path] = f.Fingerprint
		}
	}
	if fps["notes.txt"] == "" || fps["notes.txt"] != fps["main.go"] || fps["main.go"] != fps["config/app.conf"] || fps[".env"] == fps["main.go"] {
		t.Errorf("fingerprints = %v", fps)
	}
	wantUnused := []KeyLink{
		{Repo: "api", Key: "APP_SECRET", Paths: []string{".env.example"}},
		{Repo: "api", Key: "CONF_TOKEN", Paths: []string{"config/app.conf"}},
		{Repo: "api", Key: "PORT", Paths: []string{".env"}},
		{Repo: "api", Key: "SESSION_SECRET", Paths: []string{".env"}},
		{Repo: "api/sub", Key: "NESTED", Paths: []string{"lib/.env"}},
		{Repo: "team/svc", Key: "UNUSED_KEY", Paths: []string{".env"}},
	}
	if d := cmp.Diff(wantUnused, res.Unused); d != "" {
		t.Errorf("unused (-want +got):\n%s", d)
	}
	wantUndef := []KeyLink{
		{Repo: "api", Key: "MISSING", Paths: []string{"main.go"}},
		{Repo: "team/svc", Key: "ONLY_READ", Paths: []string{"app.py"}},
	}
	if d := cmp.Diff(wantUndef, res.Undefined); d != "" {
		t.Errorf("undefined (-want +got):\n%s", d)
	}
	wantSkips := []Skip{{Path: filepath.Join(org, "api", "node_modules"), Reason: SkipIgnoredDir, Detail: "folder name in the skip list"}}
	if d := cmp.Diff(wantSkips, res.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if res.Stats.Secrets != 4 || res.Stats.FilesScanned != 9 || res.Stats.Repos != 4 {
		t.Errorf("stats = %+v", res.Stats)
	}
	for _, r := range res.Repos {
		if r.Root != org {
			t.Errorf("repo %s root = %s, want %s", r.Name, r.Root, org)
		}
	}
}

func TestRootIsRepo(t *testing.T) {
	org := t.TempDir()
	writeTree(t, org, map[string]string{"svc/.env": "A=1\n"})
	gitRun(t, filepath.Join(org, "svc"), "init", "-q")
	res := testScan(t, Options{Paths: []string{filepath.Join(org, "svc")}})
	if len(res.Repos) != 1 || res.Repos[0].Name != "svc" || res.Repos[0].Root != org || !res.Repos[0].Git {
		t.Fatalf("repos = %+v", res.Repos)
	}
	if res.Findings[0].Repo != "svc" || res.Findings[0].Root != org {
		t.Fatalf("finding = %+v", res.Findings[0])
	}
	// A relative "." root names the parent folder.
	t.Chdir(filepath.Join(org, "svc"))
	res = testScan(t, Options{Paths: []string{"."}})
	if res.Repos[0].Root != org || res.Repos[0].Name != "svc" {
		t.Fatalf("repos = %+v", res.Repos)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	canary := "FAKEKEY_" + strings.Repeat("z", 16)
	writeTree(t, dir, map[string]string{
		"bin.dat":     "abc\x00def " + canary,
		"huge.txt":    strings.Repeat("x", 2000),
		"bad/.env":    "GOOD=1\nBROKEN=\"" + canary + "\nLATER=" + canary + "\n",
		"ok/.env":     "OK=1\n",
		"secret/a.go": "package a\n",
	})
	// A symlink loop, a folder symlink to an ancestor, a dangling link.
	must(t, os.Symlink("loop2", filepath.Join(dir, "loop1")))
	must(t, os.Symlink("loop1", filepath.Join(dir, "loop2")))
	must(t, os.Symlink("..", filepath.Join(dir, "ok", "up")))
	must(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	locked := filepath.Join(dir, "secret")
	must(t, os.Chmod(locked, 0))
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	_, lockedErr := os.ReadDir(locked)

	res := testScan(t, Options{Paths: []string{dir}, MaxFileSize: 1000})
	got := map[string]string{}
	for _, s := range res.Skipped {
		rel, _ := filepath.Rel(dir, s.Path)
		got[rel] = s.Reason + " " + s.Detail
	}
	want := map[string]string{
		"bin.dat":  "binary ",
		"huge.txt": "too-large 2000 bytes, over the 1000 byte limit",
		"bad/.env": "malformed line 2: unterminated double quote",
		"loop1":    "symlink-loop symlink points back to itself",
		"loop2":    "symlink-loop symlink points back to itself",
		"ok/up":    "symlink-loop folder symlink to a folder above it",
		"dangling": "unreadable broken symlink",
	}
	if lockedErr != nil {
		want["secret"] = "unreadable permission denied"
	} else {
		t.Log("running as root: the unreadable-folder case cannot be checked here")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	wantRows := []row{
		{".", "bad/.env", 1, KindEnvFile, "GOOD", "config", false, false},
		// The rest of the malformed file is still searched for keys.
		{".", "bad/.env", 2, KindHardcoded, "", "secret", false, false},
		{".", "bad/.env", 3, KindHardcoded, "", "secret", false, false},
		{".", "ok/.env", 1, KindEnvFile, "OK", "config", false, false},
	}
	if d := cmp.Diff(wantRows, rows(res)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"file.txt": "x"})
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, "nothing to scan"},
		{Options{Paths: []string{filepath.Join(dir, "missing")}}, "no such file or directory"},
		{Options{Paths: []string{filepath.Join(dir, "file.txt")}}, "not a folder"},
	} {
		c.opts.Detector = fakeDetector{}
		_, err := Scan(context.Background(), c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Scan(%+v) error = %v, want %q", c.opts.Paths, err, c.want)
		}
	}
}

func TestSkipDirsOverride(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"node_modules/p/.env": "A=1\n", "custom/.env": "B=1\n"})
	res := testScan(t, Options{Paths: []string{dir}, SkipDirs: []string{"custom"}})
	if len(res.Findings) != 1 || res.Findings[0].Path != "node_modules/p/.env" {
		t.Fatalf("findings = %+v", rows(res))
	}
}

func TestIgnoreFiles(t *testing.T) {
	dir := t.TempDir()
	k := "FAKEKEY_" + strings.Repeat("q", 10)
	writeTree(t, dir, map[string]string{
		".env":             "A=" + k + "\nB=" + k + "x\nC=" + k + "y\n",
		"docs/readme.md":   "use " + k + "\n",
		"src/a.js":         "x = '" + k + "'\n",
		"src/b.js":         "\n\ny = '" + k + "'\n",
		".gitleaksignore":  "src/b.js:fake-key:3\n",
		".env2vaultignore": "# test\n/.env:B\ndocs/\n",
	})
	fp, _ := secret.NewFingerprinter([]byte("0123456789abcdef0123"))
	res := testScan(t, Options{Paths: []string{dir}, Fingerprinter: fp})
	var paths []string
	for _, f := range res.Findings {
		paths = append(paths, f.Path+":"+f.Key)
	}
	if d := cmp.Diff([]string{".env:A", ".env:C", "src/a.js:"}, paths); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if res.Stats.Ignored != 3 {
		t.Errorf("ignored = %d, want 3", res.Stats.Ignored)
	}
	// Appending the fingerprint of .env:A hides it and every copy of the value.
	must(t, AppendIgnore(dir, res.Findings[0].Fingerprint))
	must(t, AppendIgnore(dir, res.Findings[0].Fingerprint)) // no duplicate line
	must(t, AppendIgnore(dir, IgnoreEntry(res.Findings[1])))
	res = testScan(t, Options{Paths: []string{dir}, Fingerprinter: fp})
	if len(res.Findings) != 0 {
		t.Errorf("after AppendIgnore: %v", rows(res))
	}
	b, _ := os.ReadFile(filepath.Join(dir, IgnoreFile))
	if strings.Count(string(b), secret.FingerprintPrefix) != 1 || !strings.HasSuffix(string(b), "/.env:C\n") {
		t.Errorf("ignore file:\n%s", b)
	}
}

func TestProgress(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".env": "A=FAKEKEY_abcdef\n", "b.txt": "x"})
	var calls []Progress
	res := testScan(t, Options{Paths: []string{dir}, Progress: func(p Progress) { calls = append(calls, p) }})
	if len(calls) == 0 {
		t.Fatal("Progress was never called")
	}
	last := calls[len(calls)-1]
	if last.Phase != "done" || last.Files != res.Stats.FilesScanned || last.Secrets != 1 || last.Repos != 1 {
		t.Errorf("last progress = %+v, stats %+v", last, res.Stats)
	}
}

func TestCancelled(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/.env": "A=1\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, Options{Paths: []string{dir}, Detector: fakeDetector{}}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFolderInsideRepo(t *testing.T) {
	top := filepath.Join(t.TempDir(), "mono")
	k := "FAKEKEY_" + strings.Repeat("m", 10)
	writeTree(t, top, map[string]string{"services/api/app.js": "x = '" + k + "'\n", "other/.env": "A=1\n"})
	gitRun(t, top, "init", "-q")
	gitRun(t, top, "add", "-A")
	gitRun(t, top, "commit", "-q", "-m", "x")
	res := testScan(t, Options{Paths: []string{filepath.Join(top, "services"), filepath.Join(top, "other"), filepath.Join(top, "services", "api")}})
	want := []row{
		{"mono", "other/.env", 1, KindEnvFile, "A", "config", false, true},
		{"mono", "services/api/app.js", 1, KindHardcoded, "", "secret", true, true},
	}
	if d := cmp.Diff(want, rows(res)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if len(res.Repos) != 1 || res.Repos[0].Root != filepath.Dir(top) || res.Repos[0].Name != "mono" || !res.Repos[0].Git {
		t.Errorf("repos = %+v", res.Repos)
	}
}
