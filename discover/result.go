package discover

import (
	"cmp"
	"context"
	"slices"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/env2vault/env2vault/discover/history"
	"github.com/env2vault/env2vault/secret"
)

// gitPhase asks git, for each repository, which files are tracked, which
// .env files were ever committed and which secret values entered its
// history. A repository git cannot answer for is recorded as skipped.
func (s *scanner) gitPhase(ctx context.Context, workers int) error {
	byRepo := map[*repoState][]int{}
	index := map[[2]string]*repoState{}
	for _, r := range s.repos {
		index[[2]string{r.Root, r.Name}] = r
	}
	for i, f := range s.findings {
		r := index[[2]string{f.Root, f.Repo}]
		byRepo[r] = append(byRepo[r], i)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, r := range s.repos {
		if !r.Git {
			continue
		}
		idx := byRepo[r]
		g.Go(func() error {
			if err := s.gitRepo(ctx, r, idx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.skip(r.display, SkipGit, err.Error())
			}
			return nil
		})
	}
	return g.Wait()
}

// gitRepo fills in Tracked, InHistory and CommittedEnvFiles for one
// repository. Findings are written at distinct indexes, so repos run in
// parallel without a lock on the findings.
func (s *scanner) gitRepo(ctx context.Context, r *repoState, idx []int) error {
	tracked, err := history.Tracked(ctx, r.dir)
	if err != nil {
		return err
	}
	for _, i := range idx {
		s.findings[i].Tracked = tracked[s.findings[i].Path]
	}
	committed, err := history.CommittedPaths(ctx, r.dir, IsEnvFile)
	if err != nil {
		return err
	}
	r.CommittedEnvFiles = committed
	if s.opts.SkipHistory {
		return nil
	}
	// One search per distinct secret value.
	var values []secret.Value
	slot := map[string]int{}
	which := make(map[int]int, len(idx))
	for _, i := range idx {
		f := &s.findings[i]
		if !f.IsSecret() || f.Value.IsZero() {
			continue
		}
		n, ok := slot[f.Value.Reveal()]
		if !ok {
			n = len(values)
			slot[f.Value.Reveal()] = n
			values = append(values, f.Value)
		}
		which[i] = n
	}
	clear(slot)
	if len(values) == 0 {
		return nil
	}
	found, err := history.Search(ctx, r.dir, values)
	if err != nil {
		return err
	}
	for i, n := range which {
		s.findings[i].InHistory = found[n]
	}
	return nil
}

// link works out, per repository, which .env keys no code reads and which
// reads no .env file defines. Repositories without any .env file have no
// "read but never defined" list: their settings come from elsewhere.
func link(findings []Finding) (unused, undefined []KeyLink) {
	type repoKey struct{ root, repo string }
	type keys map[string][]string
	defined := map[repoKey]keys{}
	read := map[repoKey]keys{}
	add := func(m map[repoKey]keys, rk repoKey, key, p string) {
		if m[rk] == nil {
			m[rk] = keys{}
		}
		if !slices.Contains(m[rk][key], p) {
			m[rk][key] = append(m[rk][key], p)
		}
	}
	for _, f := range findings {
		rk := repoKey{f.Root, f.Repo}
		switch {
		case f.Kind == KindEnvFile:
			add(defined, rk, f.Key, f.Path)
		case f.Kind == KindEnvRead && f.Key != "":
			add(read, rk, f.Key, f.Path)
		}
	}
	for rk, def := range defined {
		for key, paths := range def {
			if _, ok := read[rk][key]; !ok {
				unused = append(unused, KeyLink{Repo: rk.repo, Key: key, Paths: sorted(paths)})
			}
		}
		for key, paths := range read[rk] {
			if _, ok := def[key]; !ok {
				undefined = append(undefined, KeyLink{Repo: rk.repo, Key: key, Paths: sorted(paths)})
			}
		}
	}
	order := func(a, b KeyLink) int { return cmp.Or(cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.Key, b.Key)) }
	slices.SortFunc(unused, order)
	slices.SortFunc(undefined, order)
	return unused, undefined
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

// compareFindings orders findings by root, repo, path, line, kind, key,
// column and rule.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Root, b.Root),
		cmp.Compare(a.Repo, b.Repo),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Rule, b.Rule),
	)
}

func (s *scanner) result() *Result {
	res := &Result{SchemaVersion: SchemaVersion, Roots: []string{}, Repos: []Repo{}, Findings: []Finding{}}
	res.Roots = append(res.Roots, s.opts.Paths...)
	res.Unused, res.Undefined = link(s.findings)

	ignores := map[[2]string]*Ignores{}
	for _, r := range s.repos {
		ignores[[2]string{r.Root, r.Name}] = r.ignores
		if r.Git || r.files.Load() > 0 {
			res.Repos = append(res.Repos, r.Repo)
		}
	}
	for _, f := range s.findings {
		if ignores[[2]string{f.Root, f.Repo}].Match(&f) {
			res.Stats.Ignored++
			continue
		}
		res.Findings = append(res.Findings, f)
	}
	slices.SortStableFunc(res.Findings, compareFindings)
	// Overlapping roots (a folder and a repository inside it) read some
	// files twice: one finding each.
	res.Findings = slices.CompactFunc(res.Findings, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
	slices.SortFunc(res.Repos, func(a, b Repo) int { return cmp.Or(cmp.Compare(a.Root, b.Root), cmp.Compare(a.Name, b.Name)) })
	res.Skipped = append(res.Skipped, s.skips...)
	slices.SortFunc(res.Skipped, func(a, b Skip) int { return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Reason, b.Reason)) })
	for _, f := range res.Findings {
		if f.IsSecret() {
			res.Stats.Secrets++
		}
	}
	res.Stats.Repos = len(res.Repos)
	res.Stats.FilesScanned = int(s.files.Load())
	res.Stats.BytesScanned = s.bytes.Load()
	res.Stats.Skipped = len(res.Skipped)
	return res
}
