package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"

	"github.com/env2vault/env2vault/plan"
)

//go:embed report.html.tmpl
var htmlTemplate string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ref":      plan.Reference,
	"source":   sourceText,
	"consumer": consumerText,
	"lower":    strings.ToLower,
	"backend":  BackendDesc,
	"offline":  func(s string) bool { return strings.HasPrefix(s, "offline") },
	"join":     strings.Join,
}).Parse(htmlTemplate))

type htmlData struct {
	Plan    *plan.Plan
	Summary Summary
}

// WriteHTML writes a self-contained HTML report: one file with inline CSS
// and a few lines of inline script (table filter, checklist ticks kept in
// the browser's local storage), no external assets. It shows summary
// cards, the inventory with rotate badges, and the phases as checklists.
func WriteHTML(w io.Writer, p *plan.Plan) error {
	return htmlTmpl.Execute(w, htmlData{Plan: p, Summary: Summarize(p)})
}
