package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/env2vault/env2vault/discover"
)

// DefaultVaultMount is the KV mount secrets go to unless told otherwise.
const DefaultVaultMount = "secret"

// SharedPrefix is the folder a secret's target path starts with when its
// sources span more than one repo.
const SharedPrefix = "shared"

// DiffNotRun is the DiffStatus of a plan no live diff was attempted for.
const DiffNotRun = "offline: no live diff was run"

// BuildOptions configure Build.
type BuildOptions struct {
	// Backend is where secrets go. Kind defaults to vault, Vault's Mount
	// to "secret" and KVVersion to 2; GCP needs Project, AWS Region.
	Backend Backend
	// NameTemplate is a text/template over NameData; empty means
	// DefaultNameTemplate ({{.Service}}-{{.Purpose}}-{{.Env}}).
	NameTemplate string
	// EnvMap overrides the environment of .env files (see EnvironmentOf).
	EnvMap map[string]string
	// Owners overrides the owner of every secret whose first source is in
	// a repo, keyed by the repo's name (as in the scan) or base name.
	Owners map[string]string
	// Lookup finds owners and last-change dates; nil uses a GitLookup.
	Lookup Lookup
}

// Build turns scan results into a plan: one secret per distinct value
// (fingerprint) per environment, named, owned, targeted, with rotation
// calls and the four phases' checklists. Config and placeholder entries
// are not planned. Every action is create and DiffStatus is DiffNotRun;
// a live diff (migrate.Diff) may change them, after which call Refresh.
//
// Hardcoded values join the secret of an .env entry with the same value
// (preferring one in the same repo, then prod, staging, dev, test);
// hardcoded values no .env file holds form their own secret in the
// "shared" environment.
func Build(ctx context.Context, res *discover.Result, opts BuildOptions) (*Plan, error) {
	if res == nil {
		return nil, errors.New("no scan result to plan from")
	}
	backend, err := normalizeBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	nt, err := parseNameTemplate(opts.NameTemplate)
	if err != nil {
		return nil, err
	}
	lookup := opts.Lookup
	if lookup == nil {
		lookup = NewGitLookup(nil)
	}

	b := &builder{res: res, opts: opts, groups: map[groupKey]*group{}}
	if err := b.group(); err != nil {
		return nil, err
	}

	p := &Plan{
		SchemaVersion: SchemaVersion,
		Roots:         append([]string{}, res.Roots...),
		Backend:       backend,
		DiffStatus:    DiffNotRun,
		Secrets:       []Secret{},
	}
	if p.Roots == nil {
		p.Roots = []string{}
	}
	for _, k := range b.order {
		s, err := b.secret(b.groups[k])
		if err != nil {
			return nil, err
		}
		p.Secrets = append(p.Secrets, s)
	}
	if err := nameSecrets(nt, b, p.Secrets); err != nil {
		return nil, err
	}
	for i := range p.Secrets {
		s := &p.Secrets[i]
		s.Target = targetFor(backend, *s)
		if err := b.inventory(ctx, lookup, s); err != nil {
			return nil, err
		}
	}
	b.rotation(p.Secrets)
	p.Reads = b.consumers(p.Secrets)
	p.Repos = b.repos()
	p.Refresh()
	// Whatever Build writes, Load must read back.
	if err := Validate(p); err != nil {
		return nil, fmt.Errorf("the plan is not valid (check --name-template and the backend settings): %w", err)
	}
	return p, nil
}

// normalizeBackend fills defaults and checks the settings a backend needs.
func normalizeBackend(be Backend) (Backend, error) {
	switch be.Kind {
	case "", BackendVault:
		be.Kind = BackendVault
		if be.Mount == "" {
			be.Mount = DefaultVaultMount
		}
		be.Mount = strings.Trim(be.Mount, "/")
		if be.KVVersion == 0 {
			be.KVVersion = 2
		}
		if be.KVVersion != 1 && be.KVVersion != 2 {
			return be, fmt.Errorf("vault KV version must be 1 or 2, not %d", be.KVVersion)
		}
		be.Project, be.Region = "", ""
	case BackendGCP:
		if be.Project == "" {
			return be, errors.New("the gcp backend needs a project (--gcp-project)")
		}
		be.Mount, be.KVVersion, be.Region = "", 0, ""
	case BackendAWS:
		if be.Region == "" {
			return be, errors.New("the aws backend needs a region (--aws-region)")
		}
		be.Mount, be.KVVersion, be.Project = "", 0, ""
	default:
		return be, fmt.Errorf("unknown backend %q (want vault, gcp or aws)", be.Kind)
	}
	return be, nil
}

type groupKey struct{ fp, env string }

type group struct {
	key      groupKey
	findings []discover.Finding
}

type builder struct {
	res    *discover.Result
	opts   BuildOptions
	groups map[groupKey]*group
	order  []groupKey
	// provider is the service the findings name, "" when unknown.
	provider map[groupKey]string
}

func (b *builder) add(k groupKey, f discover.Finding) {
	g, ok := b.groups[k]
	if !ok {
		g = &group{key: k}
		b.groups[k] = g
		b.order = append(b.order, k)
	}
	g.findings = append(g.findings, f)
}

func where(f discover.Finding) string {
	return fmt.Sprintf("%s:%d", path.Join(f.Repo, f.Path), f.Line)
}

// group puts every secret finding into its (fingerprint, environment)
// group.
func (b *builder) group() error {
	var hardcoded []discover.Finding
	for _, f := range b.res.Findings {
		if !f.IsSecret() {
			continue
		}
		if f.Fingerprint == "" {
			return fmt.Errorf("the scan finding at %s has no fingerprint: re-run the scan with this env2vault", where(f))
		}
		switch f.Kind {
		case discover.KindEnvFile:
			b.add(groupKey{f.Fingerprint, EnvironmentOf(f.Repo, f.Path, b.opts.EnvMap)}, f)
		case discover.KindHardcoded:
			hardcoded = append(hardcoded, f)
		}
	}
	envFileGroups := map[string][]*group{}
	for _, k := range b.order {
		envFileGroups[k.fp] = append(envFileGroups[k.fp], b.groups[k])
	}
	for _, f := range hardcoded {
		cands := envFileGroups[f.Fingerprint]
		if len(cands) == 0 {
			b.add(groupKey{f.Fingerprint, EnvShared}, f)
			continue
		}
		best := slices.MinFunc(cands, func(x, y *group) int {
			return cmp.Or(
				cmp.Compare(boolRank(!hasRepo(x, f.Repo)), boolRank(!hasRepo(y, f.Repo))),
				cmp.Compare(rankEnv(x.key.env), rankEnv(y.key.env)),
				cmp.Compare(x.key.env, y.key.env),
			)
		})
		best.findings = append(best.findings, f)
	}
	// Sorting the groups here makes every later step independent of the
	// scan's finding order.
	b.provider = map[groupKey]string{}
	for _, k := range b.order {
		g := b.groups[k]
		slices.SortFunc(g.findings, compareFindings)
		for _, f := range g.findings {
			if f.Service != "" {
				b.provider[k] = strings.ToLower(f.Service)
				break
			}
		}
	}
	slices.SortFunc(b.order, func(x, y groupKey) int {
		return cmp.Or(compareFindings(b.groups[x].findings[0], b.groups[y].findings[0]), cmp.Compare(x.env, y.env), cmp.Compare(x.fp, y.fp))
	})
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func rankEnv(env string) int {
	if r, ok := envRank[env]; ok {
		return r
	}
	return len(envRank)
}

func hasRepo(g *group, repo string) bool {
	for _, f := range g.findings {
		if f.Repo == repo {
			return true
		}
	}
	return false
}

// compareFindings orders a secret's findings: .env entries first, then by
// repo, path, line and key. The first is the secret's primary source.
func compareFindings(x, y discover.Finding) int {
	return cmp.Or(
		cmp.Compare(boolRank(x.Kind != discover.KindEnvFile), boolRank(y.Kind != discover.KindEnvFile)),
		cmp.Compare(x.Repo, y.Repo),
		cmp.Compare(x.Path, y.Path),
		cmp.Compare(x.Line, y.Line),
		cmp.Compare(x.Key, y.Key),
		cmp.Compare(x.Root, y.Root),
		cmp.Compare(x.Column, y.Column),
	)
}

// secret makes the unnamed inventory row of a group.
func (b *builder) secret(g *group) (Secret, error) {
	primary := g.findings[0]
	provider := b.provider[g.key]
	service := provider
	if service == "" {
		service = slug(path.Base(primary.Repo))
	}
	envVar := primary.Key
	if primary.Kind != discover.KindEnvFile {
		envVar = EnvVarFor(primary.Key, provider, primary.Rule)
	}
	s := Secret{
		Service:     service,
		Purpose:     Purpose(envVar, service),
		Environment: g.key.env,
		EnvVar:      envVar,
		Fingerprint: g.key.fp,
		Action:      ActionCreate,
	}
	seen := map[Source]bool{}
	for _, f := range g.findings {
		src := Source{
			Root: f.Root, Repo: f.Repo, Path: f.Path, Line: f.Line, Key: f.Key, Rule: f.Rule,
			Kind: string(f.Kind), Context: string(f.Context), InHistory: f.InHistory, Tracked: f.Tracked,
		}
		if f.Kind == discover.KindEnvFile {
			src.Kind = SourceEnvFile
		} else {
			src.Kind = SourceHardcoded
		}
		if !seen[src] {
			seen[src] = true
			s.Sources = append(s.Sources, src)
		}
	}
	return s, nil
}

// nameSecrets names every secret from the template and makes the names
// unique: secrets whose names collide get their first source's repo put
// in front ("web-stripe-secret-key-dev") when that tells them apart, and
// otherwise a counter ("-2", "-3") in source order.
func nameSecrets(nt *nameTemplate, b *builder, secrets []Secret) error {
	names := make([]string, len(secrets))
	for i, s := range secrets {
		n, err := nt.render(nameData(s))
		if err != nil {
			return err
		}
		names[i] = n
	}
	byName := map[string][]int{}
	for i, n := range names {
		byName[n] = append(byName[n], i)
	}
	for _, n := range sortedKeys(byName) {
		idx := byName[n]
		if len(idx) < 2 {
			continue
		}
		repos := map[string]int{}
		for _, i := range idx {
			repos[repoBase(secrets[i])]++
		}
		for _, i := range idx {
			if r := repoBase(secrets[i]); repos[r] == 1 && len(repos) > 1 {
				names[i] = slug(r) + "-" + n
			}
		}
	}
	// Counters settle whatever is still shared, including clashes the
	// repo prefixes made with other names.
	taken := map[string]bool{}
	for i := range secrets {
		n := names[i]
		for c := 2; taken[n]; c++ {
			n = fmt.Sprintf("%s-%d", names[i], c)
		}
		taken[n] = true
		secrets[i].Name = n
	}
	return nil
}

func nameData(s Secret) NameData {
	return NameData{Service: s.Service, Purpose: s.Purpose, Env: s.Environment, Key: s.EnvVar, Repo: repoBase(s)}
}

func repoBase(s Secret) string {
	if len(s.Sources) == 0 {
		return ""
	}
	return path.Base(s.Sources[0].Repo)
}

// targetPrefix is the folder of a secret's target: its repo's base name,
// or SharedPrefix when its sources span repos.
func targetPrefix(s Secret) string {
	repos := map[string]bool{}
	for _, src := range s.Sources {
		repos[src.Repo] = true
	}
	if len(repos) == 1 {
		return slug(repoBase(s))
	}
	return SharedPrefix
}

func targetFor(be Backend, s Secret) Target {
	switch be.Kind {
	case BackendGCP:
		return Target{Project: be.Project, SecretID: s.Name}
	case BackendAWS:
		return Target{Region: be.Region, Name: targetPrefix(s) + "/" + s.Name}
	default:
		return Target{Mount: be.Mount, Path: targetPrefix(s) + "/" + s.Name, Field: "value"}
	}
}

func repoDir(root, repo string) string {
	return filepath.Join(root, filepath.FromSlash(repo))
}

// inventory fills owner and last_rotated.
func (b *builder) inventory(ctx context.Context, lookup Lookup, s *Secret) error {
	primary := s.Sources[0]
	owner := b.opts.Owners[primary.Repo]
	if owner == "" {
		owner = b.opts.Owners[path.Base(primary.Repo)]
	}
	for _, src := range s.Sources {
		if owner != "" {
			break
		}
		o, err := lookup.Owner(ctx, repoDir(src.Root, src.Repo), src.Path)
		if err != nil {
			return fmt.Errorf("finding the owner of %s: %w", path.Join(src.Repo, src.Path), err)
		}
		owner = o
	}
	s.Owner = cmp.Or(owner, Unknown)

	// The value changed last when it was first written into any of its
	// tracked places: the earliest of their last-change dates.
	last := ""
	for _, src := range s.Sources {
		d, err := lookup.LastChanged(ctx, repoDir(src.Root, src.Repo), src.Path, src.Line)
		if err != nil {
			return fmt.Errorf("reading the git history of %s: %w", path.Join(src.Repo, src.Path), err)
		}
		if d != "" && (last == "" || d < last) {
			last = d
		}
	}
	s.LastRotated = cmp.Or(last, Unknown)
	return nil
}

// committed reports whether repo's history ever held path (an .env file).
func (b *builder) committed(repo, p string) bool {
	for _, r := range b.res.Repos {
		if r.Name == repo && slices.Contains(r.CommittedEnvFiles, p) {
			return true
		}
	}
	return false
}

// contextReasons says how each hardcoded context exposes a value.
var contextReasons = map[string]string{
	string(discover.ContextSource):     "hardcoded in source",
	string(discover.ContextFrontend):   "exposed in frontend code",
	string(discover.ContextCI):         "hardcoded in CI config",
	string(discover.ContextCompose):    "hardcoded in a compose file",
	string(discover.ContextDockerfile): "hardcoded in a Dockerfile",
	string(discover.ContextKubernetes): "hardcoded in a Kubernetes manifest",
	string(discover.ContextConfig):     "hardcoded in a config file",
}

// rotation decides which secrets must be rotated rather than just moved,
// and why.
func (b *builder) rotation(secrets []Secret) {
	envsByFP := map[string][]string{}
	for _, s := range secrets {
		envsByFP[s.Fingerprint] = append(envsByFP[s.Fingerprint], s.Environment)
	}
	for i := range secrets {
		s := &secrets[i]
		var reasons []string
		add := func(r string) {
			if !slices.Contains(reasons, r) {
				reasons = append(reasons, r)
			}
		}
		// Repos where a tracked hardcoded copy already explains why the
		// value is in history.
		explained := map[string]bool{}
		for _, src := range s.Sources {
			if src.Kind == SourceHardcoded && src.Tracked {
				explained[src.Repo] = true
			}
		}
		for j := range s.Sources {
			src := &s.Sources[j]
			committed := src.Kind == SourceEnvFile && (src.Tracked || b.committed(src.Repo, src.Path))
			if committed {
				src.InHistory = true
			}
			switch {
			case !src.InHistory:
			case committed || (src.Kind == SourceHardcoded && !src.Tracked):
				add(fmt.Sprintf("exposed in git history of %s (%s)", src.Repo, src.Path))
			case src.Kind == SourceEnvFile && !explained[src.Repo]:
				add("value found in the git history of " + src.Repo)
			}
		}
		for _, src := range s.Sources {
			if src.Kind != SourceHardcoded {
				continue
			}
			r := cmp.Or(contextReasons[src.Context], "hardcoded")
			add(fmt.Sprintf("%s: %s", r, path.Join(src.Repo, src.Path)))
		}
		if envs := envsByFP[s.Fingerprint]; len(envs) > 1 {
			envs = slices.Clone(envs)
			slices.SortFunc(envs, CompareEnvs)
			add("same value used in " + joinAnd(slices.Compact(envs)))
		}
		s.Rotate = len(reasons) > 0
		s.Reasons = reasons
	}
}

// consumers fills each secret's consumers (files that define it, and
// files that read its variable in a repo that defines it) and returns the
// env-read sites of planned variables.
func (b *builder) consumers(secrets []Secret) []Read {
	type repoKey struct{ repo, key string }
	wanted := map[repoKey][]int{}
	for i, s := range secrets {
		keys := map[repoKey]bool{}
		for _, src := range s.Sources {
			keys[repoKey{src.Repo, s.EnvVar}] = true
			if src.Key != "" && src.Kind == SourceEnvFile {
				keys[repoKey{src.Repo, src.Key}] = true
			}
		}
		for k := range keys {
			wanted[k] = append(wanted[k], i)
		}
	}
	reads := []Read{}
	seenRead := map[Read]bool{}
	for _, f := range b.res.Findings {
		if f.Kind != discover.KindEnvRead {
			continue
		}
		idx, ok := wanted[repoKey{f.Repo, f.Key}]
		if !ok {
			continue
		}
		r := Read{Root: f.Root, Repo: f.Repo, Path: f.Path, Line: f.Line, Key: f.Key, Language: f.Language}
		if !seenRead[r] {
			seenRead[r] = true
			reads = append(reads, r)
		}
		for _, i := range idx {
			secrets[i].Consumers = append(secrets[i].Consumers, Consumer{Repo: f.Repo, Path: f.Path, Uses: "reads"})
		}
	}
	for i := range secrets {
		s := &secrets[i]
		for _, src := range s.Sources {
			s.Consumers = append(s.Consumers, Consumer{Repo: src.Repo, Path: src.Path, Uses: "defines"})
		}
	}
	return reads
}

// repos lists every scanned repo, plus any repo only findings name.
func (b *builder) repos() []RepoInfo {
	type k struct{ root, name string }
	seen := map[k]bool{}
	out := []RepoInfo{}
	for _, r := range b.res.Repos {
		if seen[k{r.Root, r.Name}] {
			continue
		}
		seen[k{r.Root, r.Name}] = true
		files := slices.Clone(r.CommittedEnvFiles)
		sort.Strings(files)
		out = append(out, RepoInfo{Root: r.Root, Name: r.Name, Git: r.Git, CommittedEnvFiles: slices.Compact(files)})
	}
	for _, f := range b.res.Findings {
		if !seen[k{f.Root, f.Repo}] {
			seen[k{f.Root, f.Repo}] = true
			out = append(out, RepoInfo{Root: f.Root, Name: f.Repo})
		}
	}
	return out
}

// joinAnd joins words as prose: "a", "a and b", "a, b and c".
func joinAnd(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
