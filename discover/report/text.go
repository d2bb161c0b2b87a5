package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/env2vault/env2vault/discover"
)

type styles struct {
	title, repo, secret, dim, warn, ok lipgloss.Style
	on                                 bool
}

func newStyles(color bool) styles {
	s := styles{on: color}
	if !color {
		return s
	}
	s.title = lipgloss.NewStyle().Bold(true)
	s.repo = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Cyan)
	s.secret = lipgloss.NewStyle().Foreground(lipgloss.Red)
	s.dim = lipgloss.NewStyle().Faint(true)
	s.warn = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
	s.ok = lipgloss.NewStyle().Foreground(lipgloss.Green)
	return s
}

func (s styles) r(st lipgloss.Style, text string) string {
	if !s.on || text == "" {
		return text
	}
	return st.Render(text)
}

// pad pads plain text to width before styling, so colour codes do not
// upset the alignment.
func (s styles) pad(st lipgloss.Style, text string, width int) string {
	n := lipgloss.Width(text)
	styled := s.r(st, text)
	if n < width {
		styled += strings.Repeat(" ", width-n)
	}
	return styled
}

func writeText(w io.Writer, res *discover.Result, opts Options) error {
	bw := bufio.NewWriter(w)
	st := newStyles(opts.Color)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }

	summary := fmt.Sprintf("Scanned %s and %s.", plural(res.Stats.Repos, "repository", "repositories"),
		plural(res.Stats.FilesScanned, "file", "files"))
	if res.Stats.Secrets == 0 {
		p("%s %s\n", summary, st.r(st.ok, "No secrets found."))
	} else {
		p("%s %s\n", summary, st.r(st.secret, "Found "+plural(res.Stats.Secrets, "secret", "secrets")+"."))
	}
	if res.Stats.Ignored > 0 {
		p("%s\n", st.r(st.dim, plural(res.Stats.Ignored, "finding", "findings")+" hidden by ignore files."))
	}

	perRepo := countByRepo(res)
	byRepo := map[string][]discover.Finding{}
	for _, f := range res.Findings {
		if f.IsSecret() {
			k := f.Root + "\x00" + f.Repo
			byRepo[k] = append(byRepo[k], f)
		}
	}
	for _, repo := range res.Repos {
		k := repo.Root + "\x00" + repo.Name
		c := perRepo[k]
		secrets := byRepo[k]
		if c == nil && len(repo.CommittedEnvFiles) == 0 {
			continue
		}
		p("\n%s", st.r(st.repo, repoLabel(repo.Name)))
		if !repo.Git && repo.Name != "." {
			p(" %s", st.r(st.dim, "(not a git repository)"))
		}
		p("\n")
		var rows [][]string
		for _, f := range secrets {
			rows = append(rows, []string{location(f), describe(f), f.Service, discover.SafeHint(f.Hint), state(f)})
		}
		widths := make([]int, 5)
		for _, r := range rows {
			for i, cell := range r {
				widths[i] = max(widths[i], lipgloss.Width(cell))
			}
		}
		for _, r := range rows {
			line := "  " + st.pad(st.secret, r[0], widths[0]) + "  " + st.pad(st.title, r[1], widths[1])
			for i := 2; i < 4; i++ {
				if widths[i] > 0 {
					line += "  " + st.pad(st.dim, r[i], widths[i])
				}
			}
			flag := r[4]
			if strings.Contains(flag, "history") || strings.HasPrefix(flag, "tracked") {
				flag = st.r(st.warn, flag)
			}
			p("%s  %s\n", line, flag)
		}
		if c != nil {
			var other []string
			if c.config > 0 {
				other = append(other, plural(c.config, "setting", "settings"))
			}
			if c.placeholder > 0 {
				other = append(other, plural(c.placeholder, "placeholder", "placeholders"))
			}
			if len(other) > 0 {
				p("  %s\n", st.r(st.dim, ".env entries that are not secrets: "+strings.Join(other, ", ")))
			}
			if c.reads > 0 {
				p("  %s\n", st.r(st.dim, plural(c.reads, "environment variable read", "environment variable reads")+" in code"))
			}
		}
		if len(repo.CommittedEnvFiles) > 0 {
			p("  %s %s\n", st.r(st.warn, ".env files ever committed:"), strings.Join(repo.CommittedEnvFiles, ", "))
		}
	}

	links := func(title string, ls []discover.KeyLink) {
		if len(ls) == 0 {
			return
		}
		p("\n%s\n", st.r(st.title, title))
		for _, l := range ls {
			p("  %s  %s  %s\n", repoLabel(l.Repo), l.Key, st.r(st.dim, strings.Join(l.Paths, ", ")))
		}
	}
	links("Read by code but defined in no .env file", res.Undefined)
	links("Defined in .env files but never read by code", res.Unused)

	if len(res.Skipped) > 0 {
		p("\n%s %s\n", st.r(st.title, "Not scanned:"), skipSummary(res.Skipped))
		for _, s := range res.Skipped {
			if s.Reason == discover.SkipBinary || s.Reason == discover.SkipIgnoredDir {
				continue
			}
			line := "  " + s.Path + "  " + s.Reason
			if s.Detail != "" {
				line += ": " + s.Detail
			}
			p("%s\n", st.r(st.dim, line))
		}
	}
	return bw.Flush()
}
