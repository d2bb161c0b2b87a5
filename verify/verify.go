// Package verify checks that a migration is complete: the backend holds
// every planned secret (by fingerprint), no working-tree file still holds
// a migrated value, and no code still reads a migrated variable from the
// environment.
package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

// Checks verify runs.
const (
	CheckBackend     = "backend"
	CheckWorkingTree = "working-tree"
	CheckEnvRead     = "env-read"
)

// Severities of problems. Only errors fail verification.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Problem is one failed check. It names locations, never values.
type Problem struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Secret   string `json:"secret,omitempty"`
	Repo     string `json:"repo,omitempty"`
	Path     string `json:"path,omitempty"`
	Line     int    `json:"line,omitempty"`
	Detail   string `json:"detail"`
}

// Report is the outcome of Run.
type Report struct {
	Secrets  int       `json:"secrets"`
	Verified int       `json:"verified"`
	Files    int       `json:"files_searched"`
	Problems []Problem `json:"problems"`
}

// OK reports whether no check failed with an error.
func (r *Report) OK() bool {
	for _, p := range r.Problems {
		if p.Severity == SeverityError {
			return false
		}
	}
	return true
}

// Options configure Run.
type Options struct {
	// Backend holds the migrated secrets.
	Backend migrate.Backend
	// Fingerprinter must use the key the plan was made with.
	Fingerprinter *secret.Fingerprinter
	// Reads returns the env-read findings in the plan's repos as they are
	// now (normally from discover.Scan). Nil skips the env-read check.
	Reads func(ctx context.Context) ([]discover.Finding, error)
	// MaxFileSize bounds the files the working-tree check reads
	// (default 10 MiB); larger files are reported as warnings.
	MaxFileSize int64
}

// skipDirs are folders the working-tree search does not enter: git's own
// folder and the ones a scan skips by default.
var skipDirs = func() map[string]bool {
	m := map[string]bool{".git": true}
	for _, d := range discover.DefaultSkipDirs {
		m[d] = true
	}
	return m
}()

// Run performs every check and returns the report. It returns an error
// only when it could not check at all (e.g. the backend is unreachable).
func Run(ctx context.Context, p *plan.Plan, opts Options) (*Report, error) {
	if opts.Backend == nil || opts.Fingerprinter == nil {
		return nil, errors.New("verify needs a backend and the fingerprint key")
	}
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize = 10 << 20
	}
	rep := &Report{Secrets: len(p.Secrets), Problems: []Problem{}}

	// 1. The backend holds every planned secret.
	type held struct {
		name     string
		value    secret.Value
		frontend bool
	}
	var values []held
	migratedVars := map[string]string{} // env var -> secret name
	for _, s := range p.Secrets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cur, err := opts.Backend.Get(ctx, s.Target)
		if err != nil {
			return nil, fmt.Errorf("reading %s from the backend: %w", s.Name, err)
		}
		switch {
		case !cur.Exists:
			rep.Problems = append(rep.Problems, Problem{Check: CheckBackend, Severity: SeverityError, Secret: s.Name, Detail: "not in the backend"})
			continue
		case !opts.Fingerprinter.Matches(cur.Value, s.Fingerprint):
			rep.Problems = append(rep.Problems, Problem{Check: CheckBackend, Severity: SeverityError, Secret: s.Name, Detail: "the backend holds a different value than the plan's fingerprint"})
			continue
		}
		rep.Verified++
		values = append(values, held{name: s.Name, value: cur.Value, frontend: rewrite.IsFrontend(s)})
		if !rewrite.IsFrontend(s) && s.EnvVar != "" {
			migratedVars[s.EnvVar] = s.Name
		}
	}

	// 2. No working-tree file still holds a migrated value.
	for _, r := range p.Repos {
		dir := filepath.Join(r.Root, filepath.FromSlash(r.Name))
		err := filepath.WalkDir(dir, func(full string, d fs.DirEntry, err error) error {
			if err != nil {
				rel, _ := filepath.Rel(dir, full)
				rep.Problems = append(rep.Problems, Problem{Check: CheckWorkingTree, Severity: SeverityWarning, Repo: r.Name, Path: filepath.ToSlash(rel), Detail: "could not read: " + describe(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if full != dir && skipDirs[d.Name()] {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(dir, full)
			rel = filepath.ToSlash(rel)
			info, err := d.Info()
			if err != nil {
				return nil
			}
			if info.Size() > opts.MaxFileSize {
				rep.Problems = append(rep.Problems, Problem{Check: CheckWorkingTree, Severity: SeverityWarning, Repo: r.Name, Path: rel, Detail: "too large to search"})
				return nil
			}
			content, err := os.ReadFile(full) // binaries too: a value in a binary still leaks
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{Check: CheckWorkingTree, Severity: SeverityWarning, Repo: r.Name, Path: rel, Detail: "could not read: " + describe(err)})
				return nil
			}
			rep.Files++
			for _, h := range values {
				if line := lineOf(content, h.value.Reveal()); line > 0 {
					pr := Problem{Check: CheckWorkingTree, Severity: SeverityError, Secret: h.name, Repo: r.Name, Path: rel, Line: line, Detail: "still holds the migrated value"}
					if h.frontend {
						pr.Severity = SeverityWarning
						pr.Detail = "frontend key left in place: move it behind a backend proxy"
					}
					rep.Problems = append(rep.Problems, pr)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("searching %s: %w", r.Name, err)
		}
	}

	// 3. No code still reads a migrated variable from the environment.
	if opts.Reads != nil && len(migratedVars) > 0 {
		reads, err := opts.Reads(ctx)
		if err != nil {
			return nil, fmt.Errorf("finding environment reads: %w", err)
		}
		for _, f := range reads {
			if f.Kind != discover.KindEnvRead {
				continue
			}
			if name, ok := migratedVars[f.Key]; ok {
				rep.Problems = append(rep.Problems, Problem{Check: CheckEnvRead, Severity: SeverityError, Secret: name, Repo: f.Repo, Path: f.Path, Line: f.Line,
					Detail: fmt.Sprintf("code still reads %s from the environment", f.Key)})
			}
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		if a.Repo != b.Repo {
			return a.Repo < b.Repo
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Secret < b.Secret
	})
	return rep, nil
}

// lineOf returns the 1-based line of the first occurrence of v in b, or 0.
func lineOf(b []byte, v string) int {
	if v == "" {
		return 0
	}
	i := bytes.Index(b, []byte(v))
	if i < 0 {
		return 0
	}
	return bytes.Count(b[:i], []byte("\n")) + 1
}

// describe phrases a filesystem error without repeating the full path.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.TrimSpace(err.Error())
}
