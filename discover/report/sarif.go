package report

import (
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/env2vault/env2vault/discover"
)

const infoURI = "https://github.com/env2vault/env2vault"

// sarifURI is the file's location for code scanning: relative to the
// repository when the scan covered one repository (GitHub resolves URIs
// against the repository root), else "repo/path".
func sarifURI(res *discover.Result, f discover.Finding) string {
	if len(res.Repos) == 1 || f.Repo == "." {
		return f.Path
	}
	return path.Join(f.Repo, f.Path)
}

func ruleID(f discover.Finding) string {
	if f.Rule != "" {
		return f.Rule
	}
	if f.Kind == discover.KindEnvFile {
		return "env-file-secret"
	}
	return "hardcoded-secret"
}

func message(f discover.Finding) string {
	svc := "a secret"
	if f.Service != "" {
		svc = "a " + f.Service + " secret"
	}
	if h := discover.SafeHint(f.Hint); h != "" {
		svc += " (" + h + ")"
	}
	var m string
	if f.Kind == discover.KindEnvFile {
		m = fmt.Sprintf("%s in this .env file holds %s.", f.Key, svc)
	} else {
		m = fmt.Sprintf("This %s file holds %s written into it.", f.Context, svc)
		if f.Context == "" {
			m = fmt.Sprintf("This file holds %s written into it.", svc)
		}
	}
	if f.InHistory {
		m += " The value is in git history: rotate it."
	}
	return m + " Move it to a vault (env2vault plan)."
}

func writeSARIF(w io.Writer, res *discover.Result, opts Options) error {
	rep, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	driver := sarif.NewDriver("env2vault").WithInformationURI(infoURI)
	if opts.Version != "" {
		driver = driver.WithVersion(opts.Version)
	}
	run := sarif.NewRun(*sarif.NewTool(driver))

	type ruleInfo struct{ service string }
	rules := map[string]ruleInfo{}
	var secrets []discover.Finding
	for _, f := range res.Findings {
		if !f.IsSecret() {
			continue
		}
		secrets = append(secrets, f)
		if _, ok := rules[ruleID(f)]; !ok {
			rules[ruleID(f)] = ruleInfo{f.Service}
		}
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ri := rules[id]
		desc := "Secret outside a vault"
		if ri.service != "" {
			desc = "A " + ri.service + " secret outside a vault"
		}
		run.AddRule(id).
			WithName(id).
			WithShortDescription(sarif.NewMultiformatMessageString(desc)).
			WithFullDescription(sarif.NewMultiformatMessageString(desc + " found by env2vault (rule " + id + ").")).
			WithHelpURI(infoURI).
			WithTextHelp("Move the value into a vault with env2vault plan and migrate, then rotate it if it was ever committed.").
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel("error")).
			WithProperties(sarif.Properties{"tags": []string{"security", "secrets"}})
	}
	for _, f := range secrets {
		region := sarif.NewRegion().WithStartLine(f.Line)
		if f.Column > 0 {
			region = region.WithStartColumn(f.Column)
		}
		loc := sarif.NewPhysicalLocation().
			WithArtifactLocation(sarif.NewSimpleArtifactLocation(sarifURI(res, f))).
			WithRegion(region)
		r := run.CreateResultForRule(ruleID(f)).
			WithLevel("error").
			WithMessage(sarif.NewTextMessage(message(f))).
			WithLocations([]*sarif.Location{sarif.NewLocationWithPhysicalLocation(loc)})
		if f.Fingerprint != "" {
			r.WithPartialFingerPrints(map[string]any{"env2vault/value/v1": f.Fingerprint})
		}
	}
	rep.AddRun(run)
	return rep.PrettyWrite(w)
}
