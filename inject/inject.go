// Package inject is env2vault's runtime-injection path (`env2vault run`):
// it resolves the secret references that rewrite left in .env files (and,
// optionally, a plan's secrets for one environment) from the backend and
// hands them to a child process's environment only — never to disk,
// never to the terminal.
package inject

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/discover/dotenv"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// Opener opens the backend a reference or plan names. migrate.Open with
// fixed Options is the usual one.
type Opener func(ctx context.Context, b plan.Backend) (migrate.Backend, error)

// Options configure Resolve.
type Options struct {
	// Environment selects the .env files and plan secrets (default "dev").
	Environment string
	// Dir holds the .env files (default ".").
	Dir string
	// EnvFiles, when set, are read instead of the defaults for Environment.
	EnvFiles []string
	// EnvMap overrides file-name-to-environment rules, as plan --env-map.
	EnvMap map[string]string
	// Plan, when set, adds each of its secrets in Environment under its
	// EnvVar name.
	Plan *plan.Plan
	// Open opens backends.
	Open Opener
	// Override lets .env and plan values replace variables already set in
	// Base. By default the caller's environment wins, as with docker
	// compose and most dotenv loaders.
	Override bool
}

// Var is one variable for the child. Value may be a secret.
type Var struct {
	Name   string
	Value  secret.Value
	Origin string // "path:line" or "plan:<secret name>"
	// Secret reports that the value came from the backend.
	Secret bool
}

// DefaultFiles returns the .env files in dir that belong to env, in load
// order: `.env` first, then the others by name, `.local` files last.
// Example and template files never load.
func DefaultFiles(dir, env string, envMap map[string]string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing .env files in %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !discover.IsEnvFile(name) || discover.IsEnvTemplate(name) {
			continue
		}
		if plan.EnvironmentOf("", name, envMap) == env {
			files = append(files, name)
		}
	}
	sort.SliceStable(files, func(i, j int) bool {
		return loadRank(files[i]) < loadRank(files[j]) || loadRank(files[i]) == loadRank(files[j]) && files[i] < files[j]
	})
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
	}
	return files, nil
}

func loadRank(name string) int {
	switch {
	case name == ".env":
		return 0
	case strings.HasSuffix(name, ".local"):
		return 2
	default:
		return 1
	}
}

// Resolve reads the .env files and the plan and returns the variables to
// give the child, with every reference resolved from its backend. Any
// reference that cannot be resolved is an error: a child started with a
// missing secret fails later and less clearly.
func Resolve(ctx context.Context, opts Options) ([]Var, error) {
	if opts.Environment == "" {
		opts.Environment = plan.EnvDev
	}
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.Open == nil {
		return nil, errors.New("inject: no backend opener")
	}
	files := opts.EnvFiles
	if len(files) == 0 {
		var err error
		if files, err = DefaultFiles(opts.Dir, opts.Environment, opts.EnvMap); err != nil {
			return nil, err
		}
	}
	vars := map[string]Var{}
	var order []string
	set := func(v Var) {
		if _, ok := vars[v.Name]; !ok {
			order = append(order, v.Name)
		}
		vars[v.Name] = v
	}
	r := resolver{open: opts.Open, backends: map[plan.Backend]migrate.Backend{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) && len(opts.EnvFiles) > 0 {
			return nil, fmt.Errorf("env file %s does not exist", f)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		entries, err := dotenv.ParseBytes(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range dotenv.Expand(entries) {
			origin := fmt.Sprintf("%s:%d", filepath.Base(f), e.Line)
			raw := e.Value.Reveal()
			if !plan.IsReference(raw) {
				set(Var{Name: e.Key, Value: e.Value, Origin: origin})
				continue
			}
			pb, t, err := plan.ParseReference(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", origin, err)
			}
			v, err := r.get(ctx, pb, t)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", origin, e.Key, err)
			}
			set(Var{Name: e.Key, Value: v, Origin: origin, Secret: true})
		}
	}
	if opts.Plan != nil {
		for _, s := range opts.Plan.Secrets {
			if s.Environment != opts.Environment || s.EnvVar == "" {
				continue
			}
			b := opts.Plan.Backend
			if b.Kind == plan.BackendVault || b.Kind == "" {
				b.Mount = s.Target.Mount
			}
			v, err := r.get(ctx, b, s.Target)
			if err != nil {
				return nil, fmt.Errorf("plan secret %s: %w", s.Name, err)
			}
			set(Var{Name: s.EnvVar, Value: v, Origin: "plan:" + s.Name, Secret: true})
		}
	}
	out := make([]Var, 0, len(order))
	for _, n := range order {
		out = append(out, vars[n])
	}
	return out, nil
}

type resolver struct {
	open     Opener
	backends map[plan.Backend]migrate.Backend
}

func (r *resolver) get(ctx context.Context, pb plan.Backend, t plan.Target) (secret.Value, error) {
	b, ok := r.backends[pb]
	if !ok {
		var err error
		if b, err = r.open(ctx, pb); err != nil {
			return secret.Value{}, err
		}
		r.backends[pb] = b
	}
	cur, err := b.Get(ctx, t)
	if err != nil {
		return secret.Value{}, err
	}
	if !cur.Exists {
		return secret.Value{}, fmt.Errorf("%s is not in the backend", plan.Reference(pb, t))
	}
	return cur.Value, nil
}

// Environ merges vars into base (KEY=VALUE strings, e.g. os.Environ()).
// Without override, variables already set in base keep their value.
func Environ(base []string, vars []Var, override bool) []string {
	idx := map[string]int{}
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		idx[k] = len(out)
		out = append(out, kv)
	}
	for _, v := range vars {
		kv := v.Name + "=" + v.Value.Reveal()
		if i, ok := idx[v.Name]; ok {
			if override {
				out[i] = kv
			}
			continue
		}
		idx[v.Name] = len(out)
		out = append(out, kv)
	}
	return out
}
