package rewrite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// Options configure Prepare.
type Options struct {
	// Languages are the code rewriters to use (rewrite/langs.All() gives
	// every one env2vault has).
	Languages []Language
	// Only limits code rewriting to these languages ("go", "python",
	// "javascript"; "js", "ts" and "typescript" mean javascript). Empty
	// means every language in Languages.
	Only []string
	// Resolve re-reads a source's value; nil means discover.Resolve.
	Resolve func(ctx context.Context, loc discover.Location) (secret.Value, error)
	// Fingerprinter, when set, checks each re-read value against the
	// plan's fingerprint, so a source edited since planning is reported
	// and left alone instead of rewritten blindly.
	Fingerprinter *secret.Fingerprinter
}

// NormalizeLanguage maps a --lang word to a Language name.
func NormalizeLanguage(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "go", "golang":
		return "go", nil
	case "python", "py":
		return "python", nil
	case "javascript", "js", "typescript", "ts", "node":
		return "javascript", nil
	default:
		return "", fmt.Errorf("unknown language %q (want go, python or js)", s)
	}
}

// publicPrefixes mark environment variables that frontend build tools
// inline into code shipped to browsers.
var publicPrefixes = []string{"VITE_", "NEXT_PUBLIC_", "REACT_APP_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "GATSBY_", "PUBLIC_", "VUE_APP_"}

// IsFrontend reports whether a secret is a frontend key: a hardcoded
// source in code shipped to browsers, or an .env key a bundler exposes.
// Such keys are public by construction; rewrite flags them (the plan has
// a backend-proxy checklist item) instead of rewiring them.
func IsFrontend(s plan.Secret) bool {
	for _, src := range s.Sources {
		if src.Context == string(discover.ContextFrontend) {
			return true
		}
		if src.Kind == plan.SourceEnvFile {
			for _, p := range publicPrefixes {
				if strings.HasPrefix(src.Key, p) {
					return true
				}
			}
		}
	}
	return false
}

// envShared is the environment the plan gives hardcoded values that no
// .env file shares: they applied everywhere.
const envShared = "shared"

type repoKey struct{ root, repo string }

// sourceValue is one source of one secret, with its re-read value.
type sourceValue struct {
	s        *plan.Secret
	src      plan.Source
	v        secret.Value
	frontend bool
	// rewritten marks an .env entry that already holds the secret's
	// reference (an earlier run, or one stopped part-way): it has no
	// value and needs no change, but still names the key that code reads
	// and the helper binds.
	rewritten bool
}

type repoWork struct {
	key     repoKey
	dir     string
	sources []sourceValue
	reads   []plan.Read
}

// Prepare computes every file change for plan p in memory: code call
// sites and literals, .env files, docker-compose, GitHub Actions
// workflows, Dockerfiles, Kubernetes Secret manifests, .env.example,
// .gitignore and .pre-commit-config.yaml. It re-reads each source's value
// (values stay in memory: they locate literals and are masked in Diff)
// and writes nothing.
func Prepare(ctx context.Context, p *plan.Plan, opts Options) (*Changeset, error) {
	if p == nil {
		return nil, errors.New("rewrite: no plan")
	}
	resolve := opts.Resolve
	if resolve == nil {
		resolve = discover.Resolve
	}
	only := map[string]bool{}
	for _, o := range opts.Only {
		n, err := NormalizeLanguage(o)
		if err != nil {
			return nil, err
		}
		only[n] = true
	}
	cs := &Changeset{Backend: p.Backend, repos: map[string]bool{}}
	repos := map[repoKey]*repoWork{}
	repo := func(root, name string) *repoWork {
		k := repoKey{root, name}
		if r := repos[k]; r != nil {
			return r
		}
		r := &repoWork{key: k, dir: filepath.Join(root, filepath.FromSlash(name))}
		repos[k] = r
		return r
	}
	var values []secret.Value
	matched, mismatched := 0, 0
	for i := range p.Secrets {
		s := &p.Secrets[i]
		front := IsFrontend(*s)
		var first secret.Value
		rewritten := false
		for _, src := range s.Sources {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if !localPath(src.Path) {
				return nil, fmt.Errorf("plan: secret %s has a source path outside its repo: %q", s.Name, src.Path)
			}
			v, err := resolve(ctx, discover.Location{
				Root: src.Root, Repo: src.Repo, Path: src.Path, Line: src.Line,
				Key: src.Key, Rule: src.Rule, Kind: discover.Kind(src.Kind),
			})
			note := Note{Kind: NoteSkipped, Repo: src.Repo, Path: src.Path, Line: src.Line}
			switch {
			case err != nil:
				note.Text = fmt.Sprintf("could not re-read %s (%v); not rewritten", s.Name, err)
				cs.Notes = append(cs.Notes, note)
				continue
			case v.IsZero():
				note.Text = fmt.Sprintf("%s is empty there now; not rewritten", s.Name)
				cs.Notes = append(cs.Notes, note)
				continue
			case plan.IsReference(v.Reveal()):
				// Already rewritten. An .env entry holding this secret's
				// reference still tells which key code reads, so a run
				// resumed after a partial apply (or a pick of some files)
				// rewires the code that reads it.
				if src.Kind == plan.SourceEnvFile && v.Reveal() == plan.Reference(p.Backend, s.Target) {
					rewritten = true
					r := repo(src.Root, src.Repo)
					r.sources = append(r.sources, sourceValue{s: s, src: src, frontend: front, rewritten: true})
				}
				continue
			case opts.Fingerprinter != nil && s.Fingerprint != "" && !opts.Fingerprinter.Matches(v, s.Fingerprint):
				values = append(values, v)
				mismatched++
				note.Text = fmt.Sprintf("%s changed since the plan was made; not rewritten (scan and plan again)", s.Name)
				cs.Notes = append(cs.Notes, note)
				continue
			}
			values = append(values, v)
			matched++
			if first.IsZero() {
				first = v
			}
			r := repo(src.Root, src.Repo)
			r.sources = append(r.sources, sourceValue{s: s, src: src, v: v, frontend: front})
		}
		if !front && (!first.IsZero() || rewritten) {
			cs.secrets = append(cs.secrets, rewired{name: s.Name, target: s.Target, fingerprint: s.Fingerprint, value: first})
		}
	}
	if mismatched > 0 && matched == 0 {
		return nil, fmt.Errorf("no source matches its fingerprint in the plan: is %s (or the key file) the same as when the plan was made?", secret.KeyEnv)
	}
	for _, rd := range p.Reads {
		if !localPath(rd.Path) {
			return nil, fmt.Errorf("plan: read site outside its repo: %q", rd.Path)
		}
		r := repo(rd.Root, rd.Repo)
		r.reads = append(r.reads, rd)
	}
	cs.redact = NewRedactor(values)
	keys := make([]repoKey, 0, len(repos))
	for k := range repos {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].root != keys[j].root {
			return keys[i].root < keys[j].root
		}
		return keys[i].repo < keys[j].repo
	})
	envs := environments(p)
	for _, k := range keys {
		if err := prepareRepo(ctx, cs, p, repos[k], envs, opts.Languages, only); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(cs.Files, func(i, j int) bool { return cs.Files[i].Name() < cs.Files[j].Name() })
	// Notes carry error texts from resolvers and rewriters: mask any value
	// they might echo before anyone prints them.
	for i := range cs.Notes {
		cs.Notes[i].Text = cs.redact.Redact(cs.Notes[i].Text)
	}
	return cs, nil
}

// localPath reports whether a slash-separated path stays inside its repo.
func localPath(p string) bool {
	return p != "" && filepath.IsLocal(filepath.FromSlash(p))
}

// environments lists every environment a binding may need: the plan's
// and the built-in ones.
func environments(p *plan.Plan) []string {
	set := map[string]bool{"dev": true, "staging": true, "prod": true, "test": true}
	for _, s := range p.Secrets {
		if s.Environment != "" {
			set[s.Environment] = true
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// workset holds one repo's files as rewrite changes them, in memory.
type workset struct {
	dir   string
	files map[string]*wfile
}

type wfile struct {
	old    []byte
	exists bool
	cur    []byte
	mode   fs.FileMode
	why    []string
}

func (w *workset) load(p string) (*wfile, error) {
	if f := w.files[p]; f != nil {
		return f, nil
	}
	if !localPath(p) {
		return nil, fmt.Errorf("path outside the repo: %q", p)
	}
	abs := filepath.Join(w.dir, filepath.FromSlash(p))
	f := &wfile{mode: 0o644}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%s is a folder", p)
	default:
		b, err := os.ReadFile(abs)
		if err != nil {
			return nil, err
		}
		f.old, f.cur, f.exists, f.mode = b, b, true, fi.Mode().Perm()
	}
	w.files[p] = f
	return f, nil
}

// read returns a file's current (possibly already rewritten) content.
func (w *workset) read(p string) ([]byte, error) {
	f, err := w.load(p)
	if err != nil {
		return nil, err
	}
	if !f.exists && f.cur == nil {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return f.cur, nil
}

// text returns a file's current content as a string ("" when absent).
func (w *workset) text(p string) (string, bool, error) {
	b, err := w.read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	return string(b), err == nil, err
}

func (w *workset) set(p string, content []byte, why string) error {
	f, err := w.load(p)
	if err != nil {
		return err
	}
	if string(f.cur) == string(content) && (f.exists || f.cur != nil) {
		return nil
	}
	f.cur = content
	if why != "" {
		f.why = append(f.why, why)
	}
	return nil
}

// prepareRepo computes one repo's changes.
func prepareRepo(ctx context.Context, cs *Changeset, p *plan.Plan, r *repoWork, envs []string, langs []Language, only map[string]bool) error {
	ws := &workset{dir: r.dir, files: map[string]*wfile{}}
	repoName := r.key.repo
	note := func(kind, file string, line int, format string, args ...any) {
		cs.Notes = append(cs.Notes, Note{Kind: kind, Repo: repoName, Path: file, Line: line, Text: fmt.Sprintf(format, args...)})
	}
	sort.SliceStable(r.sources, func(i, j int) bool {
		a, b := r.sources[i].src, r.sources[j].src
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	literals := map[string][]Literal{}
	envRefs := map[string]map[string]string{}
	envDirs := map[string]bool{}
	secretKeys := map[string]bool{}
	dockerEdits := map[string][]dockerEdit{}
	k8sEdits := map[string][]k8sEdit{}
	var composeVars []struct{ dir, name, ref string }
	hasSources := len(r.sources) > 0
	for _, sv := range r.sources {
		s, src := sv.s, sv.src
		ref := plan.Reference(p.Backend, s.Target)
		if src.Kind == plan.SourceEnvFile {
			envDirs[path.Dir(src.Path)] = true
			secretKeys[src.Key] = true
		}
		if sv.frontend {
			note(NoteFrontend, src.Path, src.Line, "%s is a frontend key shipped to browsers: not rewritten. Serve it through a backend proxy (see the plan's checklist), restrict it at the provider, and rotate it", s.Name)
			continue
		}
		if sv.rewritten {
			continue // the entry holds its reference already
		}
		name := s.EnvVar
		if src.Key != "" && src.Kind == plan.SourceEnvFile {
			name = src.Key
		}
		if name == "" {
			name = strings.ToUpper(strings.NewReplacer("-", "_", "/", "_", ".", "_").Replace(s.Name))
		}
		switch {
		case src.Kind == plan.SourceEnvFile:
			if envRefs[src.Path] == nil {
				envRefs[src.Path] = map[string]string{}
			}
			envRefs[src.Path][src.Key] = ref
		case src.Context == string(discover.ContextCompose):
			txt, _, err := ws.text(src.Path)
			if err != nil {
				return err
			}
			out, ok, err := replaceInYAML(txt, sv.v.Reveal(), "${"+name+"}")
			if err != nil || !ok {
				note(NoteSkipped, src.Path, src.Line, "could not replace %s by ${%s}%s; edit it by hand", s.Name, name, errSuffix(err))
				continue
			}
			if err := ws.set(src.Path, []byte(out), fmt.Sprintf("%s read from ${%s}", s.Name, name)); err != nil {
				return err
			}
			composeVars = append(composeVars, struct{ dir, name, ref string }{path.Dir(src.Path), name, ref})
		case src.Context == string(discover.ContextCI):
			txt, _, err := ws.text(src.Path)
			if err != nil {
				return err
			}
			gh := GitHubSecretName(name)
			out, ok, err := replaceInYAML(txt, sv.v.Reveal(), "${{ secrets."+gh+" }}")
			if err != nil || !ok {
				note(NoteSkipped, src.Path, src.Line, "could not replace %s by ${{ secrets.%s }}%s; edit it by hand", s.Name, gh, errSuffix(err))
				continue
			}
			if err := ws.set(src.Path, []byte(out), fmt.Sprintf("%s read from secrets.%s", s.Name, gh)); err != nil {
				return err
			}
			note(NoteAction, src.Path, src.Line, "create the GitHub Actions secret %s for this repo (its value is %s)", gh, ref)
		case src.Context == string(discover.ContextDockerfile):
			dockerEdits[src.Path] = append(dockerEdits[src.Path], dockerEdit{Line: src.Line, Value: sv.v.Reveal(), Name: name})
		case src.Context == string(discover.ContextKubernetes):
			k8sEdits[src.Path] = append(k8sEdits[src.Path], k8sEdit{Value: sv.v, Target: s.Target})
		default:
			literals[src.Path] = append(literals[src.Path], Literal{Line: src.Line, Value: sv.v, EnvVar: name})
		}
	}
	// .env files.
	for _, f := range sortedKeys(envRefs) {
		txt, ok, err := ws.text(f)
		if err != nil {
			return err
		}
		if !ok {
			note(NoteSkipped, f, 0, "the file is gone; nothing to rewrite")
			continue
		}
		out, done := rewriteEnv(txt, envRefs[f])
		for _, k := range sortedKeys(envRefs[f]) {
			if !contains(done, k) {
				note(NoteSkipped, f, 0, "%s is not assigned there any more; not rewritten", k)
			}
		}
		if len(done) > 0 {
			if err := ws.set(f, []byte(out), strings.Join(done, ", ")+" → vault reference"); err != nil {
				return err
			}
		}
	}
	// docker-compose interpolation needs the variable at `up` time: put
	// its reference beside the compose file's .env, which compose reads
	// and `env2vault run` resolves.
	composeKeys := map[string][]string{}
	for _, cv := range composeVars {
		envPath := path.Join(cv.dir, ".env")
		txt, ok, err := ws.text(envPath)
		if err != nil {
			return err
		}
		if !ok {
			note(NoteAction, path.Join(cv.dir, "docker-compose.yml"), 0, "set %s when running docker compose (e.g. %s=%s in .env, then env2vault run -- docker compose up)", cv.name, cv.name, cv.ref)
			continue
		}
		if contains(envKeys(txt), cv.name) {
			continue
		}
		if txt != "" && !strings.HasSuffix(txt, "\n") {
			txt += "\n"
		}
		txt += cv.name + "=" + cv.ref + "\n"
		if err := ws.set(envPath, []byte(txt), cv.name+" reference for docker compose"); err != nil {
			return err
		}
		composeKeys[cv.dir] = append(composeKeys[cv.dir], cv.name)
		secretKeys[cv.name] = true
	}
	for _, f := range sortedKeys(dockerEdits) {
		txt, _, err := ws.text(f)
		if err != nil {
			return err
		}
		out, notes, err := rewriteDockerfile(txt, dockerEdits[f])
		if err != nil {
			note(NoteSkipped, f, 0, "%v", err)
			continue
		}
		for _, n := range notes {
			note(NoteAction, f, 0, "%s", n)
		}
		if err := ws.set(f, []byte(out), "secrets out of the image (BuildKit secrets / runtime injection)"); err != nil {
			return err
		}
	}
	for _, f := range sortedKeys(k8sEdits) {
		txt, _, err := ws.text(f)
		if err != nil {
			return err
		}
		out, n, err := rewriteK8s(txt, p.Backend, k8sEdits[f])
		if err != nil || n == 0 {
			note(NoteSkipped, f, 0, "could not take the values out of this manifest%s; edit it by hand", errSuffix(err))
			continue
		}
		if err := ws.set(f, []byte(out), "Secret data → ExternalSecret"); err != nil {
			return err
		}
		note(NoteAction, f, 0, "install External Secrets Operator and create the ClusterSecretStore %q for %s", ExternalSecretStore, backendTitle(p.Backend))
	}
	// Code.
	bindings := repoBindings(r, envs)
	keys := map[string]bool{}
	for _, b := range bindings {
		keys[b.EnvVar] = true
	}
	files := map[string]bool{}
	for _, rd := range r.reads {
		if keys[rd.Key] {
			files[rd.Path] = true
		}
	}
	for f := range literals {
		files[f] = true
	}
	perRepo := map[string]Language{}
	used := map[string]Language{}
	missing := map[string]bool{}
	for _, f := range sortedKeys(files) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var lang Language
		for _, l := range langs {
			if l.Match(f) {
				lang = l
				break
			}
		}
		if lang == nil {
			if len(literals[f]) > 0 {
				note(NoteSkipped, f, literals[f][0].Line, "a hardcoded secret in a file no rewriter handles; move it by hand")
			} else if !missing[path.Ext(f)] {
				missing[path.Ext(f)] = true
				note(NoteSkipped, f, 0, "no rewriter handles %s files; their reads keep using the environment", path.Ext(f))
			}
			continue
		}
		if len(only) > 0 && !only[lang.Name()] {
			if len(literals[f]) > 0 {
				note(NoteSkipped, f, literals[f][0].Line, "%s is not among the selected languages; its hardcoded secret stays", lang.Name())
			}
			continue
		}
		rl, ok := perRepo[lang.Name()]
		if !ok {
			rl = lang
			if ra, isRA := lang.(RepoAware); isRA {
				var err error
				rl, err = ra.ForRepo(Repo{Dir: r.dir, Read: ws.read})
				if err != nil {
					note(NoteSkipped, "", 0, "%s files not rewritten: %v", lang.Name(), err)
					rl = nil
				}
			}
			perRepo[lang.Name()] = rl
		}
		if rl == nil {
			continue
		}
		src, err := ws.read(f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				note(NoteSkipped, f, 0, "the file is gone; nothing to rewrite")
				continue
			}
			return err
		}
		out, n, err := rl.Rewrite(f, src, Edit{Keys: keys, Literals: literals[f]})
		if err != nil {
			note(NoteSkipped, f, 0, "%v", err)
			continue
		}
		for _, lit := range literals[f] {
			if strings.Contains(string(out), lit.Value.Reveal()) {
				note(NoteSkipped, f, lit.Line, "the hardcoded value of %s is still there after rewriting; move it by hand", lit.EnvVar)
			}
		}
		if n == 0 {
			continue
		}
		if err := ws.set(f, out, fmt.Sprintf("%d read(s) through the %s helper", n, rl.Name())); err != nil {
			return err
		}
		used[rl.Name()] = rl
	}
	helpers := map[string]bool{}
	for _, name := range sortedKeys(used) {
		hf, err := used[name].Helper(p.Backend, bindings, ws.read)
		if err != nil {
			return fmt.Errorf("%s: generating the %s helper: %w", repoName, name, err)
		}
		for _, f := range hf {
			if err := ws.set(f.Path, f.Content, "generated "+name+" helper / dependencies"); err != nil {
				return err
			}
			helpers[f.Path] = true
		}
	}
	if hasSources {
		// .env.example beside each .env file set.
		for _, d := range sortedKeys(envDirs) {
			var keysInDir []string
			for _, sv := range r.sources {
				if sv.src.Kind != plan.SourceEnvFile || path.Dir(sv.src.Path) != d {
					continue
				}
				f, err := ws.load(sv.src.Path)
				if err != nil {
					return err
				}
				keysInDir = appendNew(keysInDir, envKeys(string(f.old))...)
			}
			keysInDir = appendNew(keysInDir, composeKeys[d]...)
			ex := path.Join(d, ".env.example")
			txt, _, err := ws.text(ex)
			if err != nil {
				return err
			}
			if out := updateEnvExample(txt, keysInDir, secretKeys); out != txt {
				if err := ws.set(ex, []byte(out), "keys listed without values"); err != nil {
					return err
				}
			}
		}
		gi, _, err := ws.text(".gitignore")
		if err != nil {
			return err
		}
		if out := ensureGitignore(gi); out != gi {
			if err := ws.set(".gitignore", []byte(out), "ignore .env, .env.* (but not .env.example)"); err != nil {
				return err
			}
		}
		pc, _, err := ws.text(".pre-commit-config.yaml")
		if err != nil {
			return err
		}
		out, err := ensurePrecommit(pc)
		if err != nil {
			note(NoteSkipped, ".pre-commit-config.yaml", 0, "%v; add the gitleaks hook by hand", err)
		} else if out != pc {
			if err := ws.set(".pre-commit-config.yaml", []byte(out), "gitleaks pre-commit hook"); err != nil {
				return err
			}
		}
	}
	for _, f := range sortedKeys(ws.files) {
		wf := ws.files[f]
		if wf.exists && string(wf.cur) == string(wf.old) {
			continue
		}
		if !wf.exists && wf.cur == nil {
			continue
		}
		cs.Files = append(cs.Files, &FileChange{
			Repo: repoName, Dir: r.dir, Path: f, Old: wf.old, New: wf.cur,
			Create: !wf.exists, Mode: wf.mode, Why: wf.why, helper: helpers[f],
		})
		cs.repos[r.dir] = true
	}
	return nil
}

// repoBindings returns the bindings a repo's generated helpers embed: for
// each secret with a source in the repo, its variable name there (the .env
// key, else the plan's env var) in the secret's environment. Variables
// known only from hardcoded literals (or bound in the shared environment)
// applied in every environment before, so they are bound in every
// environment that has no binding of its own.
func repoBindings(r *repoWork, envs []string) []Binding {
	type bkey struct{ ev, env string }
	got := map[bkey]Binding{}
	fromEnvFile := map[string]bool{}
	var order []bkey
	for _, sv := range r.sources {
		if sv.frontend {
			continue
		}
		s, src := sv.s, sv.src
		if !codeSource(src) {
			continue // compose, CI, Dockerfile and Kubernetes values are not read by code
		}
		ev := s.EnvVar
		if src.Kind == plan.SourceEnvFile && src.Key != "" {
			ev = src.Key
			if s.Environment != envShared {
				fromEnvFile[ev] = true
			}
		}
		if ev == "" || s.Environment == "" {
			continue
		}
		k := bkey{ev, s.Environment}
		if _, ok := got[k]; ok {
			continue
		}
		got[k] = Binding{EnvVar: ev, Environment: s.Environment, SecretName: s.Name, Target: s.Target}
		order = append(order, k)
	}
	for _, k := range append([]bkey(nil), order...) {
		if fromEnvFile[k.ev] && k.env != envShared {
			continue
		}
		for _, env := range envs {
			nk := bkey{k.ev, env}
			if _, ok := got[nk]; ok {
				continue
			}
			b := got[k]
			b.Environment = env
			got[nk] = b
			order = append(order, nk)
		}
	}
	out := make([]Binding, 0, len(order))
	for _, k := range order {
		out = append(out, got[k])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].EnvVar != out[j].EnvVar {
			return out[i].EnvVar < out[j].EnvVar
		}
		return out[i].Environment < out[j].Environment
	})
	return out
}

// codeSource reports whether a source is one code reads: an .env entry or
// a hardcoded value in source code.
func codeSource(src plan.Source) bool {
	if src.Kind == plan.SourceEnvFile {
		return true
	}
	switch discover.Context(src.Context) {
	case discover.ContextCompose, discover.ContextCI, discover.ContextDockerfile, discover.ContextKubernetes, discover.ContextFrontend:
		return false
	}
	return true
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}
