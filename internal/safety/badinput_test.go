package safety

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// badInputDir holds the committed part of the catalogue.
const badInputDir = "testdata/bad-input"

// randomToken returns a fresh alphanumeric value of n characters: what a
// generated case plants, to check it never reaches an output.
func randomToken(t *testing.T, n int) string {
	t.Helper()
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = chars[k.Int64()]
	}
	return string(b)
}

// expectFailure checks what every bad input must end with: the wanted
// non-zero exit, each wanted phrase on stderr, no panic or goroutine dump
// anywhere, and none of the hidden values in any output.
func expectFailure(t *testing.T, r result, code int, phrases []string, hidden ...string) {
	t.Helper()
	if r.code != code || r.code == 0 {
		t.Errorf("exit %d, want %d\n%s", r.code, code, r.show(nil))
	}
	for _, p := range phrases {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr does not say %q\n%s", p, r.show(nil))
		}
	}
	all := r.stdout + r.stderr
	for _, bad := range []string{"panic:", "goroutine ", "runtime error", "[recovered]"} {
		if strings.Contains(all, bad) {
			t.Errorf("output holds %q\n%s", bad, r.show(nil))
		}
	}
	for _, h := range hidden {
		if h != "" && strings.Contains(all, h) {
			t.Errorf("output holds a value from the bad input")
		}
	}
}

// copyDir copies a committed catalogue folder into a fresh temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dst
}

// TestBadInputScan runs scan (and plan, which scans too) over each
// malformed or unreadable input. A file that may hold secrets and could
// not be read fully makes both exit 2 naming it on stderr (see
// discover/SCHEMA.md); the report is still complete. Running as root,
// chmod cannot make a folder unreadable, so unreadable paths are
// simulated with a FIFO named .env and with dangling and looping
// symlinks; as another user a chmod 000 folder is tested too.
func TestBadInputScan(t *testing.T) {
	newSandbox(t)
	token := randomToken(t, 28)
	type gen func(t *testing.T, dir string)
	writeEnv := func(content []byte) gen {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, ".env"), content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name     string
		src      string // a committed folder, or "" for a generated one
		gen      gen
		args     []string // extra scan arguments
		code     int
		phrases  []string
		planCode int // plan's exit (0: same as scan's)
	}{
		{name: "unterminated quote", src: "env/unterminated-quote", code: 2,
			phrases: []string{"scan is incomplete", ".env: malformed: line 3: unterminated double quote"}},
		{name: "text after a closing quote", src: "env/text-after-quote", code: 2,
			phrases: []string{".env: malformed: line 2"}},
		{name: "line without =", src: "env/no-equals", code: 2,
			phrases: []string{".env: malformed: line 2"}},
		{name: "NUL bytes", code: 2, gen: writeEnv([]byte("LOG_LEVEL=debug\nAPI_TOKEN=" + token + "\x00\x00\nPORT=1\n")),
			phrases: []string{".env: binary"}},
		{name: "invalid UTF-8", code: 2, gen: writeEnv([]byte("API_TOKEN=" + token + "\nNAME=caf\xe9\xff\n")),
			phrases: []string{".env: malformed: line 2: invalid UTF-8"}},
		{name: "a 50 MB line over the size limit", code: 2, gen: func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, ".env"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fmt.Fprintf(f, "API_TOKEN=%s\nBLOB=", token)
			chunk := []byte(strings.Repeat("x", 1<<20))
			for range 50 {
				f.Write(chunk)
			}
			f.WriteString("\n")
		}, phrases: []string{".env: too-large"}},
		{name: "a FIFO named .env", code: 2, gen: func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, ".env"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, phrases: []string{".env: special: not a regular file"}},
		{name: "a dangling .env symlink", code: 2, gen: func(t *testing.T, dir string) {
			if err := os.Symlink("../shared/.env", filepath.Join(dir, ".env")); err != nil {
				t.Fatal(err)
			}
		}, phrases: []string{".env: unreadable: broken symlink"}},
		{name: "a looping .env symlink", code: 2, gen: func(t *testing.T, dir string) {
			if err := os.Symlink(".env", filepath.Join(dir, ".env")); err != nil {
				t.Fatal(err)
			}
		}, phrases: []string{".env: symlink-loop"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dir string
			if tc.src != "" {
				dir = copyDir(t, filepath.Join(badInputDir, tc.src))
			} else {
				dir = filepath.Join(t.TempDir(), "repo")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				tc.gen(t, dir)
			}
			for _, f := range []string{"text", "json"} {
				report := filepath.Join(t.TempDir(), "report."+f)
				r := execute(t, append([]string{"scan", "--no-history", "--format", f, "-o", report}, append(tc.args, dir)...)...)
				expectFailure(t, r, tc.code, tc.phrases, token)
				b, err := os.ReadFile(report)
				if err != nil || len(b) == 0 {
					t.Errorf("scan -o wrote no report: %v", err)
				}
				if strings.Contains(string(b), token) {
					t.Error("the report holds the value")
				}
			}
			planFile := filepath.Join(t.TempDir(), "plan.yaml")
			r := execute(t, "plan", "--offline", "--no-history", "-o", planFile, dir)
			want := tc.code
			if tc.planCode != 0 {
				want = tc.planCode
			}
			expectFailure(t, r, want, append([]string{"may be incomplete"}, tc.phrases...), token)
			if b, _ := os.ReadFile(planFile); strings.Contains(string(b), token) {
				t.Error("the plan file holds the value")
			}
		})
	}

	t.Run("folder symlink loops are not errors", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "repo")
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.Symlink("..", filepath.Join(dir, "sub", "up"))
		os.Symlink("loop", filepath.Join(dir, "loop"))
		os.WriteFile(filepath.Join(dir, ".env"), []byte("LOG_LEVEL=debug\n"), 0o600)
		r := execute(t, "scan", "--no-history", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "symlink-loop") {
			t.Errorf("want exit 0 with the loops listed\n%s", r.show(nil))
		}
	})

	t.Run("duplicate keys warn", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(badInputDir, "env/duplicate-keys"))
		r := execute(t, "scan", "--no-history", dir)
		if r.code != 0 || !strings.Contains(r.stderr, ".env assigns LOG_LEVEL 2 times (lines 1, 3); programs read the last one") {
			t.Errorf("want exit 0 and a warning naming the key and lines\n%s", r.show(nil))
		}
	})

	t.Run("an unreadable folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: chmod 000 does not stop root; the FIFO and symlink cases above stand in for unreadable paths")
		}
		dir := filepath.Join(t.TempDir(), "repo")
		locked := filepath.Join(dir, "locked")
		os.MkdirAll(locked, 0o755)
		os.WriteFile(filepath.Join(locked, ".env"), []byte("A=1\n"), 0o600)
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
		r := execute(t, "scan", "--no-history", dir)
		expectFailure(t, r, 2, []string{"locked: unreadable: permission denied"})
	})

	t.Run("bad flags and paths", func(t *testing.T) {
		expectFailure(t, execute(t, "scan", "--format", "yaml", "."), 2, []string{"yaml"})
		expectFailure(t, execute(t, "scan", "--max-file-size", "lots", "."), 2, []string{"--max-file-size"})
		missing := filepath.Join(t.TempDir(), "missing")
		expectFailure(t, execute(t, "scan", missing), 2, []string{"missing"})
		expectFailure(t, execute(t, "plan", "--offline", missing), 2, []string{"missing"})
		expectFailure(t, execute(t, "scan", "-o", filepath.Join(missing, "r.json"), t.TempDir()), 2, []string{"r.json"})
	})
}

// TestBadInputPlanFile hands each corrupt plan file to every command that
// reads one: each exits 2 naming the file and the problem, writes no
// journal, changes no file and starts no child.
func TestBadInputPlanFile(t *testing.T) {
	sb := newSandbox(t)
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1") // never reached
	t.Setenv("VAULT_TOKEN", "unused")
	files, err := filepath.Glob(filepath.Join(badInputDir, "plan", "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("the plan catalogue has %d files (%v)", len(files), err)
	}
	why := map[string]string{
		"truncated.yaml":       "not a valid plan file",
		"not-yaml.yaml":        "not a valid plan file",
		"wrong-schema.yaml":    "schema_version",
		"unknown-field.yaml":   "colour",
		"unknown-backend.yaml": "carrier-pigeon",
		"empty.yaml":           "",
		"scan-not-plan.json":   "",
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "digest")
	t.Setenv(digestKeysEnv, "PATH")
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			dir := filepath.Join(sb.out, base+".d")
			os.MkdirAll(dir, 0o755)
			b, _ := os.ReadFile(f)
			p := filepath.Join(dir, base)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			phrases := []string{base}
			if w := why[base]; w != "" {
				phrases = append(phrases, w)
			}
			for _, args := range [][]string{
				{"checklist", "--plan", p},
				{"migrate", "--plan", p, "--yes"},
				{"migrate", "--plan", p, "--dry-run"},
				{"rewrite", "--plan", p, "--yes"},
				{"rewrite", "--plan", p, "--dry-run"},
				{"verify", "--plan", p},
				{"run", "--plan", p, "--", self},
			} {
				r := execute(t, args...)
				expectFailure(t, r, 2, phrases)
				if args[0] == "run" && r.stdout != "" {
					t.Errorf("run started its child with a corrupt plan: %q", r.stdout)
				}
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("commands wrote beside the plan: %v", ents)
			}
			if after, _ := os.ReadFile(p); string(after) != string(b) {
				t.Error("a command changed the plan file")
			}
		})
	}
	t.Run("plan --from-scan with a corrupt scan", func(t *testing.T) {
		p := filepath.Join(badInputDir, "plan", "not-yaml.yaml")
		r := execute(t, "plan", "--offline", "--from-scan", p, "-o", filepath.Join(sb.out, "never.yaml"))
		expectFailure(t, r, 2, []string{"not-yaml.yaml"})
		if _, err := os.Stat(filepath.Join(sb.out, "never.yaml")); err == nil {
			t.Error("plan wrote a plan from a corrupt scan")
		}
	})
}
