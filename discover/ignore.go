package discover

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/env2vault/env2vault/secret"
)

// IgnoreFile is the name of env2vault's per-repository ignore file. See
// SCHEMA.md for its format.
const IgnoreFile = ".env2vaultignore"

// GitleaksIgnoreFile is gitleaks' per-repository ignore file, honoured
// for compatibility.
const GitleaksIgnoreFile = ".gitleaksignore"

// ignoreRule is one parsed line of an ignore file.
type ignoreRule struct {
	fingerprint string // hmac-sha256:...
	pattern     string // path glob; "" with a fingerprint
	anchored    bool   // pattern is relative to the repo root
	line        int    // 0 for any line
	selector    string // key or rule glob; "" for any
	// gitleaks "path:rule:line" entries
	gitleaks bool
	rule     string
}

// Ignores holds a repository's ignore rules.
type Ignores struct {
	rules []ignoreRule
}

// ParseIgnoreLine parses one line of a .env2vaultignore file. Blank lines
// and # comments give a nil rule and no error.
func parseIgnoreLine(line string) (*ignoreRule, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil, nil
	}
	if strings.HasPrefix(line, secret.FingerprintPrefix) {
		if strings.ContainsAny(line, " \t") || len(line) == len(secret.FingerprintPrefix) {
			return nil, errors.New("a fingerprint line holds only the fingerprint")
		}
		return &ignoreRule{fingerprint: line}, nil
	}
	r := &ignoreRule{pattern: line}
	if i := strings.LastIndexByte(line, ':'); i >= 0 && !strings.Contains(line[i+1:], "/") {
		r.pattern, r.selector = line[:i], line[i+1:]
		if n, err := strconv.Atoi(r.selector); err == nil {
			if n < 1 {
				return nil, errors.New("line numbers start at 1")
			}
			r.line, r.selector = n, ""
		} else if r.selector == "" {
			return nil, errors.New("nothing after ':'")
		} else if _, err := path.Match(r.selector, ""); err != nil {
			return nil, fmt.Errorf("bad key pattern: %w", err)
		}
	}
	if strings.HasPrefix(r.pattern, "/") {
		r.anchored, r.pattern = true, strings.TrimPrefix(r.pattern, "/")
	} else if strings.Contains(strings.TrimSuffix(r.pattern, "/"), "/") {
		r.anchored = true
	}
	r.pattern = strings.TrimSuffix(r.pattern, "/")
	if r.pattern == "" {
		return nil, errors.New("missing path pattern")
	}
	for _, seg := range strings.Split(r.pattern, "/") {
		if _, err := path.Match(seg, ""); err != nil {
			return nil, fmt.Errorf("bad path pattern: %w", err)
		}
	}
	return r, nil
}

// parseGitleaksLine parses a .gitleaksignore line: "path:rule:line"
// (or "commit:path:rule:line", which names a commit and never matches a
// file in the work tree).
func parseGitleaksLine(line string) *ignoreRule {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	parts := strings.Split(line, ":")
	if len(parts) != 3 {
		return nil
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return nil
	}
	return &ignoreRule{gitleaks: true, pattern: parts[0], rule: parts[1], line: n}
}

// LoadIgnores reads .env2vaultignore and .gitleaksignore in repoDir.
// Missing files are fine; a malformed .env2vaultignore line is an error
// naming the line.
func LoadIgnores(repoDir string) (*Ignores, error) {
	ig := &Ignores{}
	b, err := os.ReadFile(filepath.Join(repoDir, IgnoreFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", IgnoreFile, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		r, err := parseIgnoreLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", filepath.Join(repoDir, IgnoreFile), n, err)
		}
		if r != nil {
			ig.rules = append(ig.rules, *r)
		}
	}
	b, err = os.ReadFile(filepath.Join(repoDir, GitleaksIgnoreFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", GitleaksIgnoreFile, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if r := parseGitleaksLine(line); r != nil {
			ig.rules = append(ig.rules, *r)
		}
	}
	return ig, nil
}

// Match reports whether f (a finding of the repo these rules belong to)
// is ignored.
func (ig *Ignores) Match(f *Finding) bool {
	if ig == nil {
		return false
	}
	for i := range ig.rules {
		if ig.rules[i].match(f) {
			return true
		}
	}
	return false
}

func (r *ignoreRule) match(f *Finding) bool {
	switch {
	case r.fingerprint != "":
		return f.Fingerprint != "" && f.Fingerprint == r.fingerprint
	case r.gitleaks:
		// gitleaks records paths relative to where it ran: the repo or a
		// folder above it.
		return f.Rule == r.rule && f.Line == r.line &&
			(r.pattern == f.Path || r.pattern == path.Join(f.Repo, f.Path))
	}
	if r.line != 0 && f.Line != r.line {
		return false
	}
	if r.selector != "" {
		k, _ := path.Match(r.selector, f.Key)
		rl, _ := path.Match(r.selector, f.Rule)
		if !(k && f.Key != "") && !(rl && f.Rule != "") {
			return false
		}
	}
	return matchPath(r.pattern, r.anchored, f.Path)
}

// matchPath matches a slash-separated path against a pattern of path.Match
// segments where "**" matches any number of folders. An unanchored
// pattern matches at any depth. A pattern naming a folder matches every
// file below it.
func matchPath(pattern string, anchored bool, p string) bool {
	pat := strings.Split(pattern, "/")
	segs := strings.Split(p, "/")
	if anchored {
		return matchSegs(pat, segs)
	}
	for i := range segs {
		if matchSegs(pat, segs[i:]) {
			return true
		}
	}
	return false
}

func matchSegs(pat, segs []string) bool {
	if len(pat) == 0 {
		return true // a folder pattern matched: everything below it too
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegs(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	if ok, _ := path.Match(pat[0], segs[0]); !ok {
		return false
	}
	return matchSegs(pat[1:], segs[1:])
}

// IgnoreEntry returns the .env2vaultignore line that ignores exactly f:
// "/path:KEY" for an .env entry (it survives edits elsewhere in the file)
// and "/path:LINE" for other findings.
func IgnoreEntry(f Finding) string {
	if f.Kind == KindEnvFile && f.Key != "" {
		return "/" + f.Path + ":" + f.Key
	}
	return "/" + f.Path + ":" + strconv.Itoa(f.Line)
}

// AppendIgnore appends entry (one .env2vaultignore line, e.g. from
// IgnoreEntry, or a fingerprint) to repoDir's .env2vaultignore, creating
// it when missing. An entry already present is not added twice.
func AppendIgnore(repoDir string, entry string) error {
	entry = strings.TrimSpace(entry)
	if strings.ContainsAny(entry, "\n\r") {
		return errors.New("an ignore entry must be a single line")
	}
	r, err := parseIgnoreLine(entry)
	if err != nil {
		return fmt.Errorf("ignore entry: %w", err)
	}
	if r == nil {
		return errors.New("ignore entry is empty")
	}
	p := filepath.Join(repoDir, IgnoreFile)
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	for _, line := range strings.Split(string(old), "\n") {
		if strings.TrimSpace(line) == entry {
			return nil
		}
	}
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", p, err)
	}
	var buf strings.Builder
	if len(old) == 0 {
		buf.WriteString("# env2vault: findings listed here are not reported. Format: see env2vault's README.\n")
	} else if old[len(old)-1] != '\n' {
		buf.WriteByte('\n')
	}
	buf.WriteString(entry + "\n")
	if _, err := fh.WriteString(buf.String()); err != nil {
		fh.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
