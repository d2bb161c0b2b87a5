package batch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/env2vault/env2vault/discover"
	scanreport "github.com/env2vault/env2vault/discover/report"
	"github.com/env2vault/env2vault/plan"
	planreport "github.com/env2vault/env2vault/plan/report"
	"github.com/env2vault/env2vault/rewrite"
)

// Report file names in the out folder.
const (
	FileScanJSON   = "scan.json"
	FileScanSARIF  = "scan.sarif"
	FilePlan       = "plan.yaml"
	FileReportMD   = "report.md"
	FileReportJSON = "report.json"
	FileReportHTML = "report.html"
)

// ChecklistFile is the out-folder file of one phase's checklist,
// e.g. "checklist-inventory.md".
func ChecklistFile(phase string) string {
	return "checklist-" + strings.ToLower(phase) + ".md"
}

// WriteReports writes the scan reports, the plan, the plan reports and
// one Markdown checklist per phase into dir (created if missing), each
// file atomically. A nil res or p skips the files made from it. It
// returns the names written, in order. Nothing written holds a value.
func WriteReports(dir string, res *discover.Result, p *plan.Plan, version string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the output folder: %w", err)
	}
	var written []string
	write := func(name string, render func(w io.Writer) error) error {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return fmt.Errorf("rendering %s: %w", name, err)
		}
		if err := rewrite.WriteFileAtomic(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		written = append(written, name)
		return nil
	}
	if res != nil {
		opts := scanreport.Options{Version: version}
		if err := write(FileScanJSON, func(w io.Writer) error { return scanreport.Write(w, res, scanreport.JSON, opts) }); err != nil {
			return written, err
		}
		if err := write(FileScanSARIF, func(w io.Writer) error { return scanreport.Write(w, res, scanreport.SARIF, opts) }); err != nil {
			return written, err
		}
	}
	if p == nil {
		return written, nil
	}
	steps := []struct {
		name   string
		render func(w io.Writer) error
	}{
		{FilePlan, func(w io.Writer) error {
			b, err := plan.Marshal(p)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		}},
		{FileReportMD, func(w io.Writer) error { return planreport.WriteMarkdown(w, p) }},
		{FileReportJSON, func(w io.Writer) error { return planreport.WriteJSON(w, p) }},
		{FileReportHTML, func(w io.Writer) error { return planreport.WriteHTML(w, p) }},
	}
	for _, s := range steps {
		if err := write(s.name, s.render); err != nil {
			return written, err
		}
	}
	// One file per phase, even a phase the plan has no tasks for.
	for _, name := range plan.PhaseNames {
		phases, err := plan.Checklist(p, name)
		if err != nil {
			return written, err
		}
		if len(phases) == 0 {
			phases = []plan.Phase{{Name: name}}
		}
		if err := write(ChecklistFile(name), func(w io.Writer) error { return plan.WriteChecklistMarkdown(w, p, phases) }); err != nil {
			return written, err
		}
	}
	return written, nil
}
