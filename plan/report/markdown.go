package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/env2vault/env2vault/plan"
)

// WriteMarkdown writes the plan as Markdown: a summary, the inventory
// table, rotation reasons, and each phase as a task list.
func WriteMarkdown(w io.Writer, p *plan.Plan) error {
	esc := plan.MarkdownEscape
	sum := Summarize(p)
	var b strings.Builder
	b.WriteString("# env2vault migration plan\n\n")
	fmt.Fprintf(&b, "- Plan: `%s`\n", p.ID)
	fmt.Fprintf(&b, "- Backend: %s\n", esc(BackendDesc(p.Backend)))
	fmt.Fprintf(&b, "- Diff: %s\n\n", esc(p.DiffStatus))

	b.WriteString("| Secrets | To rotate | Repos | Environments | Hardcoded | In git history | Actions |\n")
	b.WriteString("|---:|---:|---:|---|---:|---:|---|\n")
	var acts []string
	for _, a := range sum.Actions {
		acts = append(acts, fmt.Sprintf("%d %s", a.Count, a.Action))
	}
	fmt.Fprintf(&b, "| %d | %d | %d | %s | %d | %d | %s |\n\n", sum.Secrets, sum.Rotate, sum.Repos,
		strings.Join(sum.Environments, ", "), sum.Hardcoded, sum.InHistory, strings.Join(acts, ", "))

	b.WriteString("## Inventory\n\n")
	if len(p.Secrets) == 0 {
		b.WriteString("No secrets to migrate.\n\n")
	} else {
		b.WriteString("| Name | Service | Environment | Owner | Last rotated | Rotate | Action | Target | Consumers | Sources |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range p.Secrets {
			rot := "no"
			if s.Rotate {
				rot = "**yes**"
			}
			var cons, srcs []string
			for _, c := range s.Consumers {
				cons = append(cons, esc(consumerText(c)))
			}
			for _, src := range s.Sources {
				srcs = append(srcs, esc(sourceText(src)))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | `%s` | %s | %s |\n",
				s.Name, esc(s.Service), esc(s.Environment), esc(s.Owner), esc(s.LastRotated), rot, esc(s.Action),
				plan.Reference(p.Backend, s.Target), strings.Join(cons, "<br>"), strings.Join(srcs, "<br>"))
		}
		b.WriteString("\n")
	}

	var rotating []plan.Secret
	for _, s := range p.Secrets {
		if s.Rotate {
			rotating = append(rotating, s)
		}
	}
	if len(rotating) > 0 {
		b.WriteString("## Rotate, not just move\n\n")
		for _, s := range rotating {
			fmt.Fprintf(&b, "- `%s`: %s\n", s.Name, esc(strings.Join(s.Reasons, "; ")))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Phases\n")
	for _, ph := range p.Phases {
		fmt.Fprintf(&b, "\n### %s\n\n", ph.Name)
		b.WriteString(plan.MarkdownTasks(ph))
	}
	b.WriteString("\n<sub>Made by env2vault. This report holds no secret values: only names, locations and keyed fingerprints.</sub>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
