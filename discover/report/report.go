// Package report writes a scan result for people (text, markdown) and
// machines (json, sarif). No format ever holds a secret value: findings
// carry values only in secret.Value, which every encoder here skips, and
// hints are cut back to a known provider prefix.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/env2vault/env2vault/discover"
)

// Format names an output format.
type Format string

// Formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	SARIF    Format = "sarif"
	Markdown Format = "markdown"
)

// Formats lists every format, for flag help.
var Formats = []Format{Text, JSON, SARIF, Markdown}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", s, strings.Join(names, ", "))
}

// Options tune the output.
type Options struct {
	// Color enables ANSI colour in the text format.
	Color bool
	// Version is env2vault's version, recorded in SARIF.
	Version string
}

// Write writes res to w in format f.
func Write(w io.Writer, res *discover.Result, f Format, opts Options) error {
	switch f {
	case Text:
		return writeText(w, res, opts)
	case JSON:
		return writeJSON(w, res)
	case SARIF:
		return writeSARIF(w, res, opts)
	case Markdown:
		return writeMarkdown(w, res)
	}
	return fmt.Errorf("unknown format %q", f)
}

func writeJSON(w io.Writer, res *discover.Result) error {
	cp := *res
	cp.Findings = make([]discover.Finding, len(res.Findings))
	for i, f := range res.Findings {
		f.Hint = discover.SafeHint(f.Hint)
		cp.Findings[i] = f
	}
	res = &cp
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

// location is "path:line" relative to the repo.
func location(f discover.Finding) string {
	return fmt.Sprintf("%s:%d", f.Path, f.Line)
}

// repoLabel names a repo for people; the folder that is not a repo shows
// as "(no repository)".
func repoLabel(name string) string {
	if name == "." {
		return "(outside any repository)"
	}
	return name
}

// describe says in a few words what a secret finding is.
func describe(f discover.Finding) string {
	if f.Kind == discover.KindHardcoded {
		where := "hardcoded"
		if f.Context != "" {
			where += ", " + string(f.Context)
		}
		if f.Key == "" {
			return "key (" + where + ")"
		}
		return f.Key + " (" + where + ")"
	}
	return f.Key
}

func state(f discover.Finding) string {
	var s []string
	if f.Tracked {
		s = append(s, "tracked")
	} else {
		s = append(s, "untracked")
	}
	if f.InHistory {
		s = append(s, "in git history")
	}
	return strings.Join(s, ", ")
}

type counts struct{ secrets, config, placeholder, reads int }

func countByRepo(res *discover.Result) map[string]*counts {
	m := map[string]*counts{}
	for _, f := range res.Findings {
		k := f.Root + "\x00" + f.Repo
		c := m[k]
		if c == nil {
			c = &counts{}
			m[k] = c
		}
		switch {
		case f.IsSecret():
			c.secrets++
		case f.Kind == discover.KindEnvRead:
			c.reads++
		case f.Classification == discover.ClassPlaceholder:
			c.placeholder++
		case f.Kind == discover.KindEnvFile:
			c.config++
		}
	}
	return m
}

// skipLabels phrase skip reasons for people.
var skipLabels = map[string]string{
	discover.SkipBinary:      "binary",
	discover.SkipTooLarge:    "too large",
	discover.SkipUnreadable:  "unreadable",
	discover.SkipSymlinkLoop: "symlink loop",
	discover.SkipSymlinkDir:  "folder symlink",
	discover.SkipIgnoredDir:  "skipped folder (--skip-dir)",
	discover.SkipSpecial:     "not a regular file",
	discover.SkipMalformed:   "malformed",
	discover.SkipGit:         "git error",
}

// skipSummary groups skipped paths by reason: "2 binary, 1 too-large".
func skipSummary(skips []discover.Skip) string {
	order := []string{}
	n := map[string]int{}
	for _, s := range skips {
		if n[s.Reason] == 0 {
			order = append(order, s.Reason)
		}
		n[s.Reason]++
	}
	parts := make([]string, len(order))
	for i, r := range order {
		label := skipLabels[r]
		if label == "" {
			label = r
		}
		parts[i] = fmt.Sprintf("%d %s", n[r], label)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
