package safety

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/root"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/secret"
)

// The test binary doubles as child processes, chosen by childEnv:
//
//   - "digest": print "KEY sha256hex" for each variable named in
//     digestKeysEnv (comma-separated), like the sample apps do.
//   - "env2vault": run the env2vault command tree with the JSON array of
//     arguments in argsEnv, as the real binary would (cli.System()).
//     With killAfterEnv=N it also SIGKILLs itself after the N-th file
//     system event under the folders in watchEnv (see killwatch_test.go).
const (
	childEnv      = "ENV2VAULT_SAFETY_CHILD"
	digestKeysEnv = "ENV2VAULT_SAFETY_DIGEST_KEYS"
	argsEnv       = "ENV2VAULT_SAFETY_ARGS"
	killAfterEnv  = "ENV2VAULT_SAFETY_KILL_AFTER"
	watchEnv      = "ENV2VAULT_SAFETY_WATCH"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "digest":
		for _, k := range strings.Split(os.Getenv(digestKeysEnv), ",") {
			if v, ok := os.LookupEnv(k); ok {
				fmt.Printf("%s %s\n", k, digest(v))
			}
		}
		os.Exit(0)
	case "env2vault":
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(argsEnv)), &args); err != nil {
			fmt.Fprintln(os.Stderr, "safety child: bad", argsEnv, err)
			os.Exit(99)
		}
		if n := os.Getenv(killAfterEnv); n != "" {
			if err := killAfterEvents(n, os.Getenv(watchEnv)); err != nil {
				fmt.Fprintln(os.Stderr, "safety child:", err)
				os.Exit(98)
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := root.Execute(ctx, cli.System(), args)
		stop()
		if os.Getenv(killAfterEnv) == "0" {
			fmt.Fprintf(os.Stderr, "safety-events %d\n", eventsSeen())
		}
		os.Exit(code)
	default:
		fmt.Fprintln(os.Stderr, "safety child: unknown mode", os.Getenv(childEnv))
		os.Exit(97)
	}
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// fingerprintKey is the ENV2VAULT_FINGERPRINT_KEY every test uses.
const fingerprintKey = "env2vault-safety-suite-key-0001"

// sandbox is a test's private environment: HOME, XDG_CONFIG_HOME and
// TMPDIR point into base, so anything a command writes outside the
// folders it was given lands where the canary search looks.
type sandbox struct {
	base, home, config, tmp, out string
}

// newSandbox sets HOME, XDG_CONFIG_HOME, TMPDIR and the fingerprint key
// for the test (t.Setenv: the test must not be parallel).
func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	base := t.TempDir() // before TMPDIR changes, so the test's own temp dir is not searched
	s := &sandbox{base: base, home: filepath.Join(base, "home"), config: filepath.Join(base, "config"),
		tmp: filepath.Join(base, "tmp"), out: filepath.Join(base, "out")}
	for _, d := range []string{s.home, s.config, s.tmp, s.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Keep the Go toolchain's caches where they are (rewrite runs
	// `go get` against a copy of go.mod): a fresh HOME would otherwise
	// mean a fresh module download.
	for _, k := range []string{"GOPATH", "GOMODCACHE", "GOCACHE"} {
		if os.Getenv(k) == "" {
			if v := goEnv(t, k); v != "" {
				t.Setenv(k, v)
			}
		}
	}
	t.Setenv("HOME", s.home)
	t.Setenv("XDG_CONFIG_HOME", s.config)
	t.Setenv("TMPDIR", s.tmp)
	t.Setenv(secret.KeyEnv, fingerprintKey)
	t.Setenv("NO_COLOR", "")
	return s
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	b, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(b))
}

// result is one command's outcome.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

// show describes r for a failure message, with planted values (if c is
// not nil) replaced by their names.
func (r result) show(c *canary) string {
	s := fmt.Sprintf("env2vault %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, clip(r.stdout), clip(r.stderr))
	if c != nil {
		s = c.redact(s)
	}
	return s
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n[...]\n" + s[len(s)-2000:]
	}
	return s
}

// execute runs env2vault in-process with test streams.
func execute(t *testing.T, args ...string) result {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	code := root.Execute(context.Background(), ios, args)
	return result{args: args, code: code, stdout: out.String(), stderr: errOut.String()}
}

// canary holds every planted value in the forms it must never appear in.
type canary struct {
	names []string // "name (form)", parallel to needles
	vals  [][]byte
}

// newCanary returns the search for m's planted values: each raw, in
// standard and URL-safe base64 (padded and raw), as Manifest.Planted
// lists them and more.
func newCanary(m sampleorg.Manifest) *canary {
	c := &canary{}
	names := make([]string, 0, len(m.Values))
	for n := range m.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := m.Values[n]
		c.add(n, "raw", v)
		for form, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding,
			"base64-raw": base64.RawStdEncoding, "base64url-raw": base64.RawURLEncoding} {
			c.add(n, form, enc.EncodeToString([]byte(v)))
		}
	}
	// Manifest.Planted is the contract: everything it lists is searched.
	for _, v := range m.Planted() {
		c.add("planted", "listed", v)
	}
	return c
}

func (c *canary) add(name, form, v string) {
	for _, have := range c.vals {
		if string(have) == v {
			return
		}
	}
	c.names = append(c.names, name+" ("+form+")")
	c.vals = append(c.vals, []byte(v))
}

// hits names (never shows) the planted values found in b.
func (c *canary) hits(b []byte) []string {
	var out []string
	for i, v := range c.vals {
		if len(v) > 0 && bytes.Contains(b, v) {
			out = append(out, c.names[i])
		}
	}
	return out
}

// redact replaces every planted value in s by its name, so a failure
// message can show command output without printing a value.
func (c *canary) redact(s string) string {
	for i, v := range c.vals {
		s = strings.ReplaceAll(s, string(v), "[PLANTED "+c.names[i]+"]")
	}
	return s
}

// check fails the test when b holds a planted value.
func (c *canary) check(t *testing.T, what string, b []byte) {
	t.Helper()
	if h := c.hits(b); len(h) > 0 {
		t.Errorf("%s holds planted values: %s", what, strings.Join(h, ", "))
	}
}

// treeHits searches every regular file under dir and returns the files
// read and, for each file holding planted values, "path: names".
func (c *canary) treeHits(dir string) (files int, hits []string, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		if h := c.hits(b); len(h) > 0 {
			rel, _ := filepath.Rel(dir, p)
			hits = append(hits, rel+": "+strings.Join(h, ", "))
		}
		return nil
	})
	return files, hits, err
}

// checkTree fails the test for every file under dir holding a planted
// value, and returns how many files it read.
func (c *canary) checkTree(t *testing.T, dir string) int {
	t.Helper()
	n, hits, err := c.treeHits(dir)
	if err != nil {
		t.Fatalf("searching %s: %v", dir, err)
	}
	for _, h := range hits {
		t.Errorf("%s/%s", filepath.Base(dir), h)
	}
	return n
}

// snapshot maps every regular file under dir (outside .git folders) to
// its content.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
