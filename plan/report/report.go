// Package report renders a migration plan for people: a terminal report
// (coloured on a TTY), Markdown, JSON (the plan itself) and a
// self-contained HTML page. Reports hold what the plan holds — names,
// locations, fingerprints and metadata — never secret values.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/env2vault/env2vault/plan"
)

// Formats names the report formats, for flag help and validation.
var Formats = []string{"text", "markdown", "json", "html"}

// Write renders p in format (text, markdown, json or html). color applies
// to text only.
func Write(w io.Writer, p *plan.Plan, format string, color bool) error {
	switch format {
	case "", "text":
		return WriteText(w, p, color)
	case "markdown", "md":
		return WriteMarkdown(w, p)
	case "json":
		return WriteJSON(w, p)
	case "html":
		return WriteHTML(w, p)
	default:
		return fmt.Errorf("unknown report format %q (want %s)", format, strings.Join(Formats, ", "))
	}
}

// WriteJSON writes the plan itself as indented JSON.
func WriteJSON(w io.Writer, p *plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// Summary counts what a plan holds, for report headers.
type Summary struct {
	Secrets      int
	Rotate       int
	Repos        int
	Environments []string
	Hardcoded    int
	InHistory    int
	Frontend     int
	// Actions counts secrets by action, in the order create, update,
	// no-op, conflict (zero counts left out).
	Actions []ActionCount
	Items   int
}

// ActionCount is how many secrets got one action.
type ActionCount struct {
	Action string
	Count  int
}

// Summarize counts p.
func Summarize(p *plan.Plan) Summary {
	s := Summary{Secrets: len(p.Secrets)}
	repos := map[string]bool{}
	actions := map[string]int{}
	for _, sec := range p.Secrets {
		if sec.Rotate {
			s.Rotate++
		}
		if !slices.Contains(s.Environments, sec.Environment) {
			s.Environments = append(s.Environments, sec.Environment)
		}
		actions[sec.Action]++
		hard, hist, front := false, false, false
		for _, src := range sec.Sources {
			repos[src.Repo] = true
			hard = hard || src.Kind == plan.SourceHardcoded
			hist = hist || src.InHistory
			front = front || src.Context == "frontend"
		}
		if hard {
			s.Hardcoded++
		}
		if hist {
			s.InHistory++
		}
		if front {
			s.Frontend++
		}
	}
	s.Repos = len(repos)
	slices.SortFunc(s.Environments, plan.CompareEnvs)
	for _, a := range []string{plan.ActionCreate, plan.ActionUpdate, plan.ActionNoop, plan.ActionConflict} {
		if actions[a] > 0 {
			s.Actions = append(s.Actions, ActionCount{a, actions[a]})
		}
	}
	for _, ph := range p.Phases {
		s.Items += len(ph.Items)
	}
	return s
}

// BackendDesc describes where a plan's secrets go, in a few words.
func BackendDesc(b plan.Backend) string {
	switch b.Kind {
	case plan.BackendGCP:
		return "Google Secret Manager, project " + b.Project
	case plan.BackendAWS:
		return "AWS Secrets Manager, region " + b.Region
	default:
		v := b.KVVersion
		if v == 0 {
			v = 2
		}
		return fmt.Sprintf("Vault KV v%d, mount %s", v, b.Mount)
	}
}

// sourceText describes a source: "billing-api/.env.production:2 STRIPE_SECRET_KEY".
func sourceText(src plan.Source) string {
	s := fmt.Sprintf("%s:%d", path.Join(src.Repo, src.Path), src.Line)
	if src.Key != "" {
		s += " " + src.Key
	} else if src.Rule != "" {
		s += " (" + src.Rule + ")"
	}
	if src.Kind == plan.SourceHardcoded {
		c := src.Context
		if c == "" {
			c = "hardcoded"
		}
		s += " [" + c + "]"
	}
	return s
}

func consumerText(c plan.Consumer) string {
	return path.Join(c.Repo, c.Path) + " (" + c.Uses + ")"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
