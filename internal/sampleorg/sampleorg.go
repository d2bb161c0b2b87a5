// Package sampleorg materialises the sample organisation in
// testdata/sample-org into a folder: it fills in fake provider-shaped keys
// (built from parts at run time, so no key-shaped string is ever committed
// and no scanner or push protection trips on this repository) and creates
// each repo's git history, including a .env.production that was committed
// once and later removed.
//
// Templates write {{fake:NAME}} for a fake value and {{fake64:NAME}} for
// its base64 encoding; files named _gitignore become .gitignore.
package sampleorg

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// Manifest says what Build planted, for tests (canary searches, expected
// findings). Values holds the plaintext fake values by NAME.
type Manifest struct {
	Dir    string
	Values map[string]string
	Repos  []string
}

// Planted returns every planted value (sorted), for canary searches.
func (m Manifest) Planted() []string {
	out := make([]string, 0, len(m.Values)*2)
	for _, v := range m.Values {
		out = append(out, v, base64.StdEncoding.EncodeToString([]byte(v)))
	}
	sort.Strings(out)
	return out
}

type fakeSpec struct {
	parts   []string // joined to make the prefix, so the prefix is never written whole in source
	charset string
	n       int
	suffix  string
}

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	lower = "abcdefghijklmnopqrstuvwxyz0123456789"
	b64ch = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)

// fakes are the fake values the templates may use. Each is deterministic
// (seeded by its name) so golden files are stable.
var fakes = map[string]fakeSpec{
	"anthropic":           {parts: []string{"sk-", "ant-", "api03-"}, charset: b64ch, n: 93, suffix: "AA"},
	"openai":              {parts: []string{"sk-", "proj-"}, charset: alnum, n: 74, suffix: "T3Blbk" + "FJ" + "xYzAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKlMnOpQrSt"},
	"stripe-test":         {parts: []string{"sk", "_test_"}, charset: alnum, n: 32},
	"stripe-live":         {parts: []string{"sk", "_live_"}, charset: alnum, n: 32},
	"pg-dev-password":     {charset: alnum, n: 20},
	"pg-prod-password":    {charset: alnum, n: 24},
	"pg-compose-password": {charset: alnum, n: 22},
	"github-pat":          {parts: []string{"gh", "p_"}, charset: alnum, n: 36},
	"huggingface":         {parts: []string{"h", "f_"}, charset: alpha, n: 34},
	"slack-webhook":       {parts: []string{"https://hooks.", "slack.com/services/T0", "1ABCD2EF/B0", "1ABCD2EF/"}, charset: alnum, n: 24},
	"sendgrid":            {parts: []string{"S", "G."}, charset: b64ch, n: 22, suffix: "."},
	"sendgrid-prod":       {parts: []string{"S", "G."}, charset: b64ch, n: 22, suffix: "."},
	"session-secret":      {charset: alnum, n: 48},
	"google-maps":         {parts: []string{"AI", "za"}, charset: b64ch, n: 35},
	"npm":                 {parts: []string{"np", "m_"}, charset: alnum, n: 36},
}

// Value returns the fake value NAME deterministically.
func Value(name string) (string, error) {
	spec, ok := fakes[name]
	if !ok {
		return "", fmt.Errorf("sampleorg: unknown fake %q", name)
	}
	var seed uint64
	for _, c := range name {
		seed = seed*131 + uint64(c)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	tail := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = spec.charset[r.IntN(len(spec.charset))]
		}
		return string(b)
	}
	v := strings.Join(spec.parts, "") + tail(spec.n) + spec.suffix
	if name == "sendgrid" || name == "sendgrid-prod" {
		v += tail(43)
	}
	return v, nil
}

// TemplateDir returns testdata/sample-org in this module's source tree.
func TemplateDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-org")
}

var placeholder = regexp.MustCompile(`\{\{(fake|fake64):([a-z0-9-]+)\}\}`)

// repoSteps lists each repo's history, applied in order after the files
// are written. Paths are relative to the org folder.
var repoSteps = map[string][][]string{
	"billing-api": {
		{"add", "-A"},
		{"add", "-f", ".env.production"},
		{"commit", "-m", "billing-api: first version"},
		{"rm", "--cached", "-q", ".env.production"},
		{"commit", "-m", "stop tracking .env.production"},
	},
	"teams/ml/ml-service": {
		{"add", "-A"},
		{"commit", "-m", "ml-service: first version"},
	},
	"web": {
		{"add", "-A"},
		{"commit", "-m", "web: first version"},
	},
}

// Build writes the sample organisation into dir (which must be empty or
// absent) and returns what it planted.
func Build(ctx context.Context, dir string) (Manifest, error) {
	src := TemplateDir()
	m := Manifest{Dir: dir, Values: map[string]string{}}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var ferr error
		out := placeholder.ReplaceAllStringFunc(string(b), func(s string) string {
			sub := placeholder.FindStringSubmatch(s)
			v, err := Value(sub[2])
			if err != nil {
				ferr = err
				return s
			}
			m.Values[sub[2]] = v
			if sub[1] == "fake64" {
				return base64.StdEncoding.EncodeToString([]byte(v))
			}
			return v
		})
		if ferr != nil {
			return fmt.Errorf("%s: %w", rel, ferr)
		}
		if filepath.Base(rel) == "_gitignore" {
			rel = filepath.Join(filepath.Dir(rel), ".gitignore")
		}
		return os.WriteFile(filepath.Join(dir, rel), []byte(out), 0o644)
	})
	if err != nil {
		return m, fmt.Errorf("building the sample org: %w", err)
	}
	repos := make([]string, 0, len(repoSteps))
	for r := range repoSteps {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	for i, r := range repos {
		if err := makeRepo(ctx, filepath.Join(dir, filepath.FromSlash(r)), repoSteps[r], i); err != nil {
			return m, fmt.Errorf("creating git history for %s: %w", r, err)
		}
	}
	m.Repos = repos
	return m, nil
}

func makeRepo(ctx context.Context, dir string, steps [][]string, n int) error {
	all := append([][]string{{"init", "-q", "-b", "main"}}, steps...)
	commit := 0
	for _, args := range all {
		if args[0] == "commit" {
			commit++
			args = append(args, "-q")
		}
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		date := fmt.Sprintf("2026-0%d-%02dT10:00:00Z", 1+n, 1+commit)
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME=Dana Dev", "GIT_AUTHOR_EMAIL=dana@example.com",
			"GIT_COMMITTER_NAME=Dana Dev", "GIT_COMMITTER_EMAIL=dana@example.com",
			"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
