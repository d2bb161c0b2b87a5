package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/env2vault/env2vault/discover"
)

// cell escapes text for a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeMarkdown(w io.Writer, res *discover.Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("# env2vault scan\n\n")
	p("%s, %s, **%s**.", plural(res.Stats.Repos, "repository", "repositories"),
		plural(res.Stats.FilesScanned, "file", "files"), plural(res.Stats.Secrets, "secret", "secrets"))
	if res.Stats.Ignored > 0 {
		p(" %s hidden by ignore files.", plural(res.Stats.Ignored, "finding", "findings"))
	}
	p("\n")

	var secrets, entries []discover.Finding
	for _, f := range res.Findings {
		switch {
		case f.IsSecret():
			secrets = append(secrets, f)
		case f.Kind == discover.KindEnvFile:
			entries = append(entries, f)
		}
	}
	if len(secrets) > 0 {
		p("\n## Secrets\n\n| Repository | Location | What | Service | Hint | Tracked | In git history |\n|---|---|---|---|---|---|---|\n")
		for _, f := range secrets {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", cell(repoLabel(f.Repo)), code(location(f)), cell(describe(f)),
				cell(f.Service), code(discover.SafeHint(f.Hint)), yesNo(f.Tracked), yesNo(f.InHistory))
		}
	}
	if len(entries) > 0 {
		p("\n## Other .env entries\n\n| Repository | Location | Key | Classification | Why |\n|---|---|---|---|---|\n")
		for _, f := range entries {
			p("| %s | %s | %s | %s | %s |\n", cell(repoLabel(f.Repo)), code(location(f)), code(f.Key), f.Classification, cell(f.Reason))
		}
	}
	var committed []string
	for _, r := range res.Repos {
		for _, c := range r.CommittedEnvFiles {
			committed = append(committed, fmt.Sprintf("- %s: %s", cell(repoLabel(r.Name)), code(c)))
		}
	}
	if len(committed) > 0 {
		p("\n## .env files ever committed\n\n%s\n", strings.Join(committed, "\n"))
	}
	links := func(title string, ls []discover.KeyLink) {
		if len(ls) == 0 {
			return
		}
		p("\n## %s\n\n| Repository | Key | Where |\n|---|---|---|\n", title)
		for _, l := range ls {
			paths := make([]string, len(l.Paths))
			for i, x := range l.Paths {
				paths[i] = code(x)
			}
			p("| %s | %s | %s |\n", cell(repoLabel(l.Repo)), code(l.Key), strings.Join(paths, ", "))
		}
	}
	links("Read by code but defined in no .env file", res.Undefined)
	links("Defined in .env files but never read by code", res.Unused)
	if len(res.Skipped) > 0 {
		p("\n## Not scanned\n\n%s.\n\n| Path | Reason | Detail |\n|---|---|---|\n", skipSummary(res.Skipped))
		for _, s := range res.Skipped {
			p("| %s | %s | %s |\n", code(s.Path), s.Reason, cell(s.Detail))
		}
	}
	return bw.Flush()
}
