package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// PhaseAll selects every phase in Checklist.
const PhaseAll = "all"

// Checklist returns the phases of p that phase names: "inventory",
// "planning", "implementation", "rollout" (any case), or "all" or "" for
// every phase in order.
func Checklist(p *Plan, phase string) ([]Phase, error) {
	want := strings.ToLower(strings.TrimSpace(phase))
	if want != "" && want != PhaseAll {
		known := false
		for _, n := range PhaseNames {
			known = known || strings.ToLower(n) == want
		}
		if !known {
			return nil, fmt.Errorf("unknown phase %q (want inventory, planning, implementation, rollout or all)", phase)
		}
	}
	var out []Phase
	for _, ph := range p.Phases {
		if want == "" || want == PhaseAll || strings.ToLower(ph.Name) == want {
			out = append(out, ph)
		}
	}
	return out, nil
}

// WriteChecklistMarkdown writes phases as Markdown task lists, ready to
// paste into an issue or pull request. Each item ends with its ID in an
// HTML comment, which renders invisibly.
func WriteChecklistMarkdown(w io.Writer, p *Plan, phases []Phase) error {
	var b strings.Builder
	for i, ph := range phases {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "## %s\n\n", ph.Name)
		b.WriteString(MarkdownTasks(ph))
	}
	fmt.Fprintf(&b, "\n<sub>env2vault plan %s</sub>\n", p.ID)
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownTasks renders one phase's items as a Markdown task list
// ("- [ ] text <!-- id -->" lines), or "Nothing to do." when it has none.
func MarkdownTasks(ph Phase) string {
	if len(ph.Items) == 0 {
		return "Nothing to do.\n"
	}
	var b strings.Builder
	for _, it := range ph.Items {
		text := MarkdownEscape(it.Text)
		if it.BestPractice {
			text += " _(best practice)_"
		}
		fmt.Fprintf(&b, "- [ ] %s <!-- %s -->\n", text, it.ID)
	}
	return b.String()
}

// ChecklistJSON is the JSON form of a checklist, for ticket systems.
type ChecklistJSON struct {
	PlanID string      `json:"plan_id"`
	Phases []PhaseJSON `json:"phases"`
}

// PhaseJSON is one phase in ChecklistJSON.
type PhaseJSON struct {
	Name  string     `json:"name"`
	Items []ItemJSON `json:"items"`
}

// ItemJSON is one task in ChecklistJSON.
type ItemJSON struct {
	ID           string `json:"id"`
	Phase        string `json:"phase"`
	Text         string `json:"text"`
	Secret       string `json:"secret,omitempty"`
	Repo         string `json:"repo,omitempty"`
	BestPractice bool   `json:"best_practice"`
	Done         bool   `json:"done"`
}

// WriteChecklistJSON writes phases as JSON (ChecklistJSON).
func WriteChecklistJSON(w io.Writer, p *Plan, phases []Phase) error {
	out := ChecklistJSON{PlanID: p.ID, Phases: []PhaseJSON{}}
	for _, ph := range phases {
		pj := PhaseJSON{Name: ph.Name, Items: []ItemJSON{}}
		for _, it := range ph.Items {
			pj.Items = append(pj.Items, ItemJSON{ID: it.ID, Phase: strings.ToLower(ph.Name), Text: it.Text, Secret: it.Secret, Repo: it.Repo, BestPractice: it.BestPractice})
		}
		out.Phases = append(out.Phases, pj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)

// MarkdownEscape escapes text for Markdown prose and table cells.
func MarkdownEscape(s string) string {
	return mdEscaper.Replace(s)
}
