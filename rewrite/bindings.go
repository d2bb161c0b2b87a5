package rewrite

import (
	"fmt"
	"slices"
	"sort"

	"github.com/env2vault/env2vault/plan"
)

// BackendKind is b's kind, plan.BackendVault when the plan leaves it empty.
func BackendKind(b plan.Backend) string {
	if b.Kind == "" {
		return plan.BackendVault
	}
	return b.Kind
}

// BindingRow is one environment variable's bindings, as a generated helper
// embeds them.
type BindingRow struct {
	// EnvVar is the environment variable name.
	EnvVar string
	// Envs are the environments it is bound in, sorted.
	Envs []string
	// Targets maps each of Envs to where the secret lives, as a tuple whose
	// shape depends on the backend kind: Vault (mount, path, field), with
	// field "value" when the target names none; GCP (project, secret id);
	// AWS (region, secret name), with the backend's region when the target
	// names none.
	Targets map[string][]string
}

// BindingTable groups bindings by environment variable for backend b,
// sorted by name, for the language helpers to write out in their own
// syntax. A binding without a variable name or environment, an unknown
// backend kind, or a variable bound to two different targets in one
// environment is an error; the same binding given twice counts once.
func BindingTable(b plan.Backend, bindings []Binding) ([]BindingRow, error) {
	kind := BackendKind(b)
	byVar := map[string]*BindingRow{}
	for _, bd := range bindings {
		if bd.EnvVar == "" || bd.Environment == "" {
			return nil, fmt.Errorf("binding for %q has no environment variable or environment", bd.SecretName)
		}
		var target []string
		switch kind {
		case plan.BackendVault:
			field := bd.Target.Field
			if field == "" {
				field = "value"
			}
			target = []string{bd.Target.Mount, bd.Target.Path, field}
		case plan.BackendGCP:
			target = []string{bd.Target.Project, bd.Target.SecretID}
		case plan.BackendAWS:
			region := bd.Target.Region
			if region == "" {
				region = b.Region
			}
			target = []string{region, bd.Target.Name}
		default:
			return nil, fmt.Errorf("unknown backend %q", b.Kind)
		}
		r := byVar[bd.EnvVar]
		if r == nil {
			r = &BindingRow{EnvVar: bd.EnvVar, Targets: map[string][]string{}}
			byVar[bd.EnvVar] = r
		}
		if prev, dup := r.Targets[bd.Environment]; dup {
			if !slices.Equal(prev, target) {
				return nil, fmt.Errorf("%s is bound twice in environment %q, to different secrets", bd.EnvVar, bd.Environment)
			}
			continue
		}
		r.Envs = append(r.Envs, bd.Environment)
		r.Targets[bd.Environment] = target
	}
	rows := make([]BindingRow, 0, len(byVar))
	for _, r := range byVar {
		sort.Strings(r.Envs)
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].EnvVar < rows[j].EnvVar })
	return rows, nil
}
