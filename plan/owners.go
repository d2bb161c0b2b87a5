package plan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Unknown is what owner and last_rotated say when nothing could be found.
const Unknown = "unknown"

// Lookup answers the questions about a repo that a plan's inventory needs.
// BuildOptions.Lookup takes one; GitLookup reads real repos.
type Lookup interface {
	// Owner returns who owns path (relative to the repo at dir): the
	// CODEOWNERS owners, else the last git author. "" when unknown.
	Owner(ctx context.Context, dir, path string) (string, error)
	// LastChanged returns the date (YYYY-MM-DD) of the last commit that
	// touched line of path, "" when the file is not tracked or unknown.
	LastChanged(ctx context.Context, dir, path string, line int) (string, error)
}

// CodeOwnersLocations are where CODEOWNERS files are looked for, in order;
// the first one found is used.
var CodeOwnersLocations = []string{"CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"}

// GitLookup implements Lookup over repos on disk: CODEOWNERS files (last
// matching pattern wins) and the git command. A repo that is missing (a
// scan made on another machine) or not a git work tree gives "" answers,
// not errors. It runs git once per repo and once per file asked about,
// whatever the number of lines, and is safe for concurrent use.
type GitLookup struct {
	// Logger gets a debug line for each git call that failed; nil discards.
	Logger *slog.Logger

	mu      sync.Mutex
	owners  map[string]*codeOwners     // by repo dir
	tracked map[string]map[string]bool // by repo dir: tracked paths
	blames  map[string][]string        // by dir|path: date by line-1
	authors map[string]string          // by dir|path: last author
}

// NewGitLookup returns a GitLookup.
func NewGitLookup(logger *slog.Logger) *GitLookup {
	return &GitLookup{Logger: logger}
}

// Owner implements Lookup.
func (g *GitLookup) Owner(ctx context.Context, dir, path string) (string, error) {
	co, err := g.codeOwners(dir)
	if err != nil {
		return "", err
	}
	if co != nil {
		if owners, ok := co.match(path); ok {
			return strings.Join(owners, " "), nil
		}
	}
	key := dir + "|" + path
	g.mu.Lock()
	a, ok := g.authors[key]
	g.mu.Unlock()
	if ok {
		return a, nil
	}
	out, _, err := g.git(ctx, dir, "log", "-1", "--format=%an <%ae>", "--", path)
	if err != nil {
		return "", err
	}
	a = strings.TrimSpace(out)
	g.mu.Lock()
	if g.authors == nil {
		g.authors = map[string]string{}
	}
	g.authors[key] = a
	g.mu.Unlock()
	return a, nil
}

// LastChanged implements Lookup using git blame on the line.
func (g *GitLookup) LastChanged(ctx context.Context, dir, path string, line int) (string, error) {
	tracked, err := g.trackedFiles(ctx, dir)
	if err != nil || !tracked[path] {
		return "", err
	}
	dates, err := g.blame(ctx, dir, path)
	if err != nil {
		return "", err
	}
	if line >= 1 && line <= len(dates) {
		return dates[line-1], nil
	}
	// The line is past the end of the committed file: fall back to the
	// file's last commit.
	out, _, err := g.git(ctx, dir, "log", "-1", "--format=%ct", "--", path)
	return unixDate(strings.TrimSpace(out)), err
}

func (g *GitLookup) trackedFiles(ctx context.Context, dir string) (map[string]bool, error) {
	g.mu.Lock()
	t, ok := g.tracked[dir]
	g.mu.Unlock()
	if ok {
		return t, nil
	}
	out, _, err := g.git(ctx, dir, "ls-files", "-z")
	if err != nil {
		return nil, err
	}
	t = map[string]bool{}
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			t[f] = true
		}
	}
	g.mu.Lock()
	if g.tracked == nil {
		g.tracked = map[string]map[string]bool{}
	}
	g.tracked[dir] = t
	g.mu.Unlock()
	return t, nil
}

// blame returns the committer date of each line of path's committed
// version ("" for lines changed since the last commit).
func (g *GitLookup) blame(ctx context.Context, dir, path string) ([]string, error) {
	key := dir + "|" + path
	g.mu.Lock()
	d, ok := g.blames[key]
	g.mu.Unlock()
	if ok {
		return d, nil
	}
	out, _, err := g.git(ctx, dir, "blame", "--line-porcelain", "--", path)
	if err != nil {
		return nil, err
	}
	var dates []string
	uncommitted := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	date := ""
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "\t"):
			if uncommitted {
				date = ""
			}
			dates = append(dates, date)
		case len(l) > 40 && isHex(l[:40]) && l[40] == ' ':
			uncommitted = strings.Trim(l[:40], "0") == ""
			date = ""
		default:
			if t, ok := strings.CutPrefix(l, "committer-time "); ok {
				date = unixDate(t)
			}
		}
	}
	g.mu.Lock()
	if g.blames == nil {
		g.blames = map[string][]string{}
	}
	g.blames[key] = dates
	g.mu.Unlock()
	return dates, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func unixDate(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return ""
	}
	return time.Unix(n, 0).UTC().Format(time.DateOnly)
}

// git runs git in dir and reports whether it succeeded. Failures other
// than a cancelled context are logged, not returned: the repo may be
// absent or not use git, which makes the answer unknown, not an error.
func (g *GitLookup) git(ctx context.Context, dir string, args ...string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", false, nil
	}
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		if g.Logger != nil {
			g.Logger.Debug("git failed", "dir", dir, "args", strings.Join(args, " "), "err", err, "stderr", strings.TrimSpace(stderr.String()))
		}
		return "", false, nil
	}
	return string(out), true, nil
}

func (g *GitLookup) codeOwners(dir string) (*codeOwners, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if co, ok := g.owners[dir]; ok {
		return co, nil
	}
	if g.owners == nil {
		g.owners = map[string]*codeOwners{}
	}
	var co *codeOwners
	for _, loc := range CodeOwnersLocations {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(loc)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, loc), err)
		}
		co = parseCodeOwners(string(b))
		break
	}
	g.owners[dir] = co
	return co, nil
}

// codeOwners is a parsed CODEOWNERS file.
type codeOwners struct {
	rules []ownerRule
}

type ownerRule struct {
	re     *regexp.Regexp
	owners []string
}

// parseCodeOwners parses CODEOWNERS text. Lines that do not parse as a
// pattern are ignored, as GitHub does.
func parseCodeOwners(text string) *codeOwners {
	co := &codeOwners{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		re, err := ownerPattern(fields[0])
		if err != nil {
			continue
		}
		co.rules = append(co.rules, ownerRule{re: re, owners: fields[1:]})
	}
	return co
}

// match returns the owners of the last rule matching path. The last
// matching rule wins; when it lists no owners the path is unowned (!ok).
func (co *codeOwners) match(path string) ([]string, bool) {
	for i := len(co.rules) - 1; i >= 0; i-- {
		if co.rules[i].re.MatchString(path) {
			if len(co.rules[i].owners) == 0 {
				return nil, false
			}
			return co.rules[i].owners, true
		}
	}
	return nil, false
}

// ownerPattern compiles a CODEOWNERS (gitignore-style) pattern into a
// regexp over slash-separated repo-relative paths. A pattern without a
// slash (other than a trailing one) matches at any depth; a leading slash
// anchors it to the repo root; a trailing slash or a match on a folder
// covers everything below; "*" stays within a path segment, "**" crosses
// them.
func ownerPattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, errors.New("empty pattern")
	}
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	anchored := strings.HasPrefix(p, "/") || strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
				b.WriteString("(?:.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if dirOnly {
		b.WriteString("/.*$")
	} else {
		b.WriteString("(?:/.*)?$")
	}
	return regexp.Compile(b.String())
}

// StaticLookup is a Lookup from fixed answers, for tests and for plans
// built where the repos are not on disk. Keys are "dir|path"; a missing
// key answers "".
type StaticLookup struct {
	Owners map[string]string
	Dates  map[string]string
}

// Owner implements Lookup.
func (s StaticLookup) Owner(_ context.Context, dir, path string) (string, error) {
	return s.Owners[dir+"|"+path], nil
}

// LastChanged implements Lookup.
func (s StaticLookup) LastChanged(_ context.Context, dir, path string, _ int) (string, error) {
	return s.Dates[dir+"|"+path], nil
}
