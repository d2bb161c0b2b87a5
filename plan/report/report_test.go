package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/plan"
)

var update = flag.Bool("update", false, "update golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// samplePlan is the plan of the plan package's sample scan fixture.
func samplePlan(t *testing.T) *plan.Plan {
	t.Helper()
	res, err := plan.LoadScans("../testdata/sample-scan.json")
	if err != nil {
		t.Fatal(err)
	}
	lookup := plan.StaticLookup{
		Owners: map[string]string{
			"/org/billing-api|.env":                  "@acme/payments-oncall",
			"/org/billing-api|.env.production":       "@acme/payments-oncall",
			"/org/billing-api|internal/ai/client.go": "@acme/payments",
			"/org/web|public/config.js":              "Dana Dev <dana@example.com>",
		},
		Dates: map[string]string{
			"/org/billing-api|internal/ai/client.go": "2026-01-02",
			"/org/web|public/config.js":              "2026-03-02",
		},
	}
	p, err := plan.Build(context.Background(), res, plan.BuildOptions{Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// livePlan is samplePlan as a live diff might leave it.
func livePlan(t *testing.T) *plan.Plan {
	p := samplePlan(t)
	acts := []string{plan.ActionNoop, plan.ActionUpdate, plan.ActionConflict}
	for i := range p.Secrets {
		if i < len(acts) {
			p.Secrets[i].Action = acts[i]
		}
	}
	p.DiffStatus = "live"
	p.Refresh()
	return p
}

func emptyPlan(t *testing.T) *plan.Plan {
	p := &plan.Plan{SchemaVersion: plan.SchemaVersion, Roots: []string{"/org"}, Backend: plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"}, DiffStatus: plan.DiffNotRun, Secrets: []plan.Secret{}}
	p.Refresh()
	return p
}

func TestReportsGolden(t *testing.T) {
	plans := map[string]func(*testing.T) *plan.Plan{"sample": samplePlan, "live": livePlan, "empty": emptyPlan}
	formats := []struct {
		name, ext string
		write     func(*bytes.Buffer, *plan.Plan) error
	}{
		{"text", "txt", func(b *bytes.Buffer, p *plan.Plan) error { return WriteText(b, p, false) }},
		{"text-color", "ansi", func(b *bytes.Buffer, p *plan.Plan) error { return WriteText(b, p, true) }},
		{"markdown", "md", func(b *bytes.Buffer, p *plan.Plan) error { return WriteMarkdown(b, p) }},
		{"json", "json", func(b *bytes.Buffer, p *plan.Plan) error { return WriteJSON(b, p) }},
		{"html", "html", func(b *bytes.Buffer, p *plan.Plan) error { return WriteHTML(b, p) }},
	}
	for _, pn := range []string{"sample", "live", "empty"} {
		for _, f := range formats {
			t.Run(pn+"/"+f.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.write(&b, plans[pn](t)); err != nil {
					t.Fatal(err)
				}
				golden(t, pn+"."+f.name+"."+f.ext, b.Bytes())
			})
		}
	}
}

func TestTextColor(t *testing.T) {
	var plain, color bytes.Buffer
	p := samplePlan(t)
	if err := WriteText(&plain, p, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&color, p, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain text report holds ANSI escapes")
	}
	if !strings.Contains(color.String(), "\x1b[") {
		t.Error("colour text report holds no ANSI escapes")
	}
}

func TestJSONIsThePlan(t *testing.T) {
	p := samplePlan(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	// JSON is YAML: the plan decoder must read the JSON report back.
	got, err := plan.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("JSON report does not round-trip to the plan (-want +got):\n%s", diff)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, samplePlan(t)); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<link", "src=\"http", "src='http", "@import", "url(http"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML report refers to an external asset (%q)", bad)
		}
	}
	for _, want := range []string{"badge rotate", "stripe-secret-key-prod", "type=\"checkbox\"", "implementation.pre-commit.web"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, samplePlan(t), "pdf", false)
	if err == nil || !strings.Contains(err.Error(), `"pdf"`) {
		t.Fatalf("Write(pdf) = %v, want an unknown format error", err)
	}
}
