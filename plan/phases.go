package plan

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/env2vault/env2vault/discover"
)

// Phase names, in order.
const (
	PhaseInventory      = "Inventory"
	PhasePlanning       = "Planning"
	PhaseImplementation = "Implementation"
	PhaseRollout        = "Rollout"
)

// PhaseNames lists the phases in order.
var PhaseNames = []string{PhaseInventory, PhasePlanning, PhaseImplementation, PhaseRollout}

// phaseList collects a phase's items, dropping repeats of an ID so that
// generated IDs stay unique.
type phaseList struct {
	name  string
	items []Item
	ids   map[string]bool
}

func (l *phaseList) add(it Item) {
	if l.ids == nil {
		l.ids = map[string]bool{}
	}
	if l.ids[it.ID] {
		return
	}
	l.ids[it.ID] = true
	l.items = append(l.items, it)
}

func (l *phaseList) phase() Phase {
	items := l.items
	if items == nil {
		items = []Item{}
	}
	return Phase{Name: l.name, Items: items}
}

// idPart makes a string safe and stable inside an item ID.
func idPart(s string) string {
	return cmp.Or(slug(s), "x")
}

// buildPhases generates the four phases' checklists from the plan's
// content alone, so a plan file always carries checklists that match it.
// Item IDs derive from what an item is about (secret name, repo, file),
// never from its position, so they survive re-planning.
func buildPhases(p *Plan) []Phase {
	g := phaseGen{p: p}
	return []Phase{g.inventory(), g.planning(), g.implementation(), g.rollout()}
}

type phaseGen struct{ p *Plan }

// repoNames returns the repos that hold sources of planned secrets.
func (g phaseGen) repoNames() []string {
	var out []string
	for _, s := range g.p.Secrets {
		for _, src := range s.Sources {
			out = append(out, src.Repo)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (g phaseGen) envs() []string {
	var out []string
	for _, s := range g.p.Secrets {
		out = append(out, s.Environment)
	}
	slices.SortFunc(out, CompareEnvs)
	return slices.Compact(out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (g phaseGen) inventory() Phase {
	l := phaseList{name: PhaseInventory}
	p := g.p
	repos := g.repoNames()
	if len(p.Secrets) == 0 {
		l.add(Item{ID: "inventory.review", Text: "Review the scan: no secrets were found to migrate; check that every repo was scanned"})
		return l.phase()
	}
	l.add(Item{ID: "inventory.review", Text: fmt.Sprintf("Review the inventory of %s in %s (%s) and mark false positives in the scan so they are not migrated",
		plural(len(p.Secrets), "secret", "secrets"), plural(len(repos), "repo", "repos"), strings.Join(g.envs(), ", "))})

	byOwner := map[string][]string{}
	unowned := map[string][]string{}
	for _, s := range p.Secrets {
		if s.Owner == Unknown || s.Owner == "" {
			unowned[s.Sources[0].Repo] = append(unowned[s.Sources[0].Repo], s.Name)
			continue
		}
		byOwner[s.Owner] = append(byOwner[s.Owner], s.Name)
	}
	for _, r := range sortedKeys(unowned) {
		l.add(Item{ID: "inventory.find-owner." + idPart(r), Repo: r,
			Text: fmt.Sprintf("Find an owner for %s in %s: neither CODEOWNERS nor git history names an owner (or pass --owner %s=TEAM)", strings.Join(unowned[r], ", "), r, r)})
	}
	for _, o := range sortedKeys(byOwner) {
		l.add(Item{ID: "inventory.confirm-owner." + idPart(o),
			Text: fmt.Sprintf("Confirm with %s that they own %s", o, strings.Join(byOwner[o], ", "))})
	}
	for _, r := range p.Repos {
		if files := leakedEnvFiles(r); len(files) > 0 {
			l.add(Item{ID: "inventory.history." + idPart(r.Name), Repo: r.Name,
				Text: fmt.Sprintf("Treat every value ever committed in %s (%s) as leaked: anyone with a clone of its git history can read them",
					r.Name, strings.Join(files, ", "))})
		}
	}
	for _, s := range p.Secrets {
		if !hasUse(s, "reads") && allKind(s, SourceEnvFile) {
			l.add(Item{ID: "inventory.unused." + idPart(s.Name), Secret: s.Name, Repo: s.Sources[0].Repo,
				Text: fmt.Sprintf("Check whether %s is still needed: no scanned code reads %s; retire it instead of migrating it if not", s.Name, s.EnvVar)})
		}
	}
	return l.phase()
}

func hasUse(s Secret, use string) bool {
	for _, c := range s.Consumers {
		if c.Uses == use {
			return true
		}
	}
	return false
}

func allKind(s Secret, kind string) bool {
	for _, src := range s.Sources {
		if src.Kind != kind {
			return false
		}
	}
	return true
}

// backendDesc describes the backend and layout in a few words.
func backendDesc(b Backend) string {
	switch b.Kind {
	case BackendGCP:
		return fmt.Sprintf("Google Secret Manager in project %s", b.Project)
	case BackendAWS:
		return fmt.Sprintf("AWS Secrets Manager in %s", b.Region)
	default:
		return fmt.Sprintf("Vault KV v%d at mount %s", cmp.Or(b.KVVersion, 2), b.Mount)
	}
}

func (g phaseGen) prefixes() []string {
	var out []string
	for _, s := range g.p.Secrets {
		switch g.p.Backend.Kind {
		case BackendGCP:
			out = append(out, s.Target.SecretID)
		case BackendAWS:
			out = append(out, path.Dir(s.Target.Name)+"/*")
		default:
			dir := path.Dir(s.Target.Path)
			if g.p.Backend.KVVersion != 1 {
				out = append(out, s.Target.Mount+"/data/"+dir+"/*")
			} else {
				out = append(out, s.Target.Mount+"/"+dir+"/*")
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (g phaseGen) planning() Phase {
	l := phaseList{name: PhasePlanning}
	p := g.p
	if len(p.Secrets) == 0 {
		return l.phase()
	}
	l.add(Item{ID: "planning.layout", Text: fmt.Sprintf("Agree the layout: %s into %s, named service-purpose-environment (e.g. %s at %s)",
		plural(len(p.Secrets), "secret", "secrets"), backendDesc(p.Backend), p.Secrets[0].Name, Reference(p.Backend, p.Secrets[0].Target))})
	if strings.HasPrefix(p.DiffStatus, "offline") {
		l.add(Item{ID: "planning.live-diff", Text: fmt.Sprintf("Re-run env2vault plan with access to the backend to see what it already holds (this plan is %s)", p.DiffStatus)})
	}
	for _, s := range p.Secrets {
		ref := Reference(p.Backend, s.Target)
		switch s.Action {
		case ActionConflict:
			l.add(Item{ID: "planning.conflict." + idPart(s.Name), Secret: s.Name,
				Text: fmt.Sprintf("Resolve the conflict for %s at %s before migrating: something other than a single text value is stored there; move it or pick another name", s.Name, ref)})
		case ActionUpdate:
			l.add(Item{ID: "planning.update." + idPart(s.Name), Secret: s.Name,
				Text: fmt.Sprintf("Confirm that %s may be overwritten: %s holds a different value today", s.Name, ref)})
		}
	}
	// Values shared across environments.
	byFP := map[string][]string{}
	for _, s := range p.Secrets {
		byFP[s.Fingerprint] = append(byFP[s.Fingerprint], s.Name)
	}
	var shared [][]string
	for _, names := range byFP {
		if len(names) > 1 {
			slices.Sort(names)
			shared = append(shared, names)
		}
	}
	slices.SortFunc(shared, func(x, y []string) int { return cmp.Compare(x[0], y[0]) })
	for _, names := range shared {
		l.add(Item{ID: "planning.split." + idPart(names[0]), Secret: names[0],
			Text: fmt.Sprintf("Issue separate values for %s: they share one value today", joinAnd(names))})
	}
	var rotate []string
	for _, s := range p.Secrets {
		if s.Rotate {
			rotate = append(rotate, s.Name)
		}
	}
	if len(rotate) > 0 {
		l.add(Item{ID: "planning.rotation-windows", Text: fmt.Sprintf("Agree rotation windows with the owners of the %s to rotate: %s",
			plural(len(rotate), "secret", "secrets"), strings.Join(rotate, ", "))})
	}

	// Best practice that applies to every migration.
	l.add(Item{ID: "planning.separate-environments", BestPractice: true,
		Text: "Use separate credentials per environment: dev, staging and prod each get their own values, and their own provider accounts or projects where the provider allows"})
	prefixes := g.prefixes()
	switch p.Backend.Kind {
	case BackendGCP:
		l.add(Item{ID: "planning.least-privilege", BestPractice: true,
			Text: "Grant least privilege: each service's identity gets roles/secretmanager.secretAccessor on its own secrets only, never project-wide; only the migration identity may add versions"})
		l.add(Item{ID: "planning.audit-logging", BestPractice: true,
			Text: "Turn on Data Access audit logs for Secret Manager in project " + p.Backend.Project + " before the first secret is written"})
		l.add(Item{ID: "planning.secret-zero", BestPractice: true,
			Text: "Handle secret-zero with platform identity: services reach Secret Manager as their Workload Identity or service account, CI through OIDC federation, never with a key file"})
	case BackendAWS:
		l.add(Item{ID: "planning.least-privilege", BestPractice: true,
			Text: "Write least-privilege IAM policies: each service may call secretsmanager:GetSecretValue on its own names only (" + strings.Join(prefixes, ", ") + "); only the migration role may write"})
		l.add(Item{ID: "planning.audit-logging", BestPractice: true,
			Text: "Check that CloudTrail records Secrets Manager calls in " + p.Backend.Region + " and alert on GetSecretValue from unexpected principals"})
		l.add(Item{ID: "planning.secret-zero", BestPractice: true,
			Text: "Handle secret-zero with platform identity: services use their IAM role (instance profile, IRSA, ECS task role), CI uses OIDC, never long-lived access keys"})
	default:
		l.add(Item{ID: "planning.least-privilege", BestPractice: true,
			Text: "Write least-privilege Vault policies: one per service, read-only on its own paths (" + strings.Join(prefixes, ", ") + "); only the migration token may write"})
		l.add(Item{ID: "planning.audit-logging", BestPractice: true,
			Text: "Turn on a Vault audit device (vault audit enable file file_path=...) before the first secret is written"})
		l.add(Item{ID: "planning.secret-zero", BestPractice: true,
			Text: "Handle secret-zero with platform identity: services log in to Vault with the kubernetes, jwt/OIDC, aws or gcp auth method, never with a token stored beside the app"})
	}
	return l.phase()
}

// keyWords turns a hardcoded key into prose: "mapsKey" gives "maps key".
func keyWords(s Secret, src Source) string {
	ws := words(lastSegment(src.Key))
	if len(ws) == 0 {
		ws = words(s.EnvVar)
	}
	return strings.Join(ws, " ")
}

func ciVar(s Secret, src Source) string {
	if ws := words(lastSegment(src.Key)); len(ws) > 0 {
		return strings.ToUpper(strings.Join(ws, "_"))
	}
	return s.EnvVar
}

func at(s Secret) string {
	if pn := ProviderName(s.Service); pn != "" {
		return " at " + pn
	}
	return ""
}

func (g phaseGen) implementation() Phase {
	l := phaseList{name: PhaseImplementation}
	p := g.p
	if len(p.Secrets) == 0 {
		return l.phase()
	}
	l.add(Item{ID: "implementation.migrate",
		Text: fmt.Sprintf("Push the %s into %s with env2vault migrate --plan <plan file> (run it with --dry-run first)", plural(len(p.Secrets), "secret", "secrets"), backendDesc(p.Backend))})
	for _, s := range p.Secrets {
		if s.Rotate {
			l.add(Item{ID: "implementation.rotate." + idPart(s.Name), Secret: s.Name, Repo: s.Sources[0].Repo,
				Text: fmt.Sprintf("Rotate %s%s and store the new value at %s: %s", s.Name, at(s), Reference(p.Backend, s.Target), strings.Join(s.Reasons, "; "))})
		}
	}
	for _, s := range p.Secrets {
		for _, src := range s.Sources {
			if src.Kind != SourceHardcoded {
				continue
			}
			file := path.Join(src.Repo, src.Path)
			id := idPart(file)
			switch src.Context {
			case "frontend":
				l.add(Item{ID: "implementation.frontend." + id + "." + idPart(keyWords(s, src)), Secret: s.Name, Repo: src.Repo,
					Text: fmt.Sprintf("Move the %s in %s behind a backend proxy: code shipped to browsers cannot keep a secret (until then, restrict the key to your domains%s)", keyWords(s, src), file, at(s))})
			case "ci":
				v := ciVar(s, src)
				if strings.HasPrefix(src.Path, ".github/workflows/") {
					l.add(Item{ID: "implementation.ci." + id + "." + idPart(v), Secret: s.Name, Repo: src.Repo,
						Text: fmt.Sprintf("Create the GitHub Actions secret %s (or use OIDC) in %s and use ${{ secrets.%s }} in %s instead of the literal", v, src.Repo, v, src.Path)})
				} else if path.Base(src.Path) == ".gitlab-ci.yml" {
					l.add(Item{ID: "implementation.ci." + id + "." + idPart(v), Secret: s.Name, Repo: src.Repo,
						Text: fmt.Sprintf("Create the masked, protected GitLab CI/CD variable %s (or use ID tokens) and remove the literal from %s", v, file)})
				} else {
					l.add(Item{ID: "implementation.ci." + id + "." + idPart(v), Secret: s.Name, Repo: src.Repo,
						Text: fmt.Sprintf("Store %s in your CI system's secret store (or use OIDC) and remove the literal from %s", v, file)})
				}
			case "dockerfile":
				v := ciVar(s, src)
				l.add(Item{ID: "implementation.dockerfile." + id + "." + idPart(v), Secret: s.Name, Repo: src.Repo,
					Text: fmt.Sprintf("Pass %s to the build as a BuildKit secret (RUN --mount=type=secret) instead of ARG/ENV in %s: build arguments stay in the image history", v, file)})
			case "compose":
				v := ciVar(s, src)
				l.add(Item{ID: "implementation.compose." + id + "." + idPart(v), Secret: s.Name, Repo: src.Repo,
					Text: fmt.Sprintf("Take %s out of %s: use ${%s} and start compose under env2vault run", v, file, v)})
			case "kubernetes":
				l.add(Item{ID: "implementation.kubernetes." + id, Secret: s.Name, Repo: src.Repo,
					Text: fmt.Sprintf("Stop committing %s: have the cluster sync it from the backend (External Secrets Operator, Vault Agent Injector or the Secrets Store CSI driver)", file)})
			default:
				l.add(Item{ID: "implementation.literal." + id + "." + idPart(s.EnvVar), Secret: s.Name, Repo: src.Repo,
					Text: fmt.Sprintf("Replace the literal in %s with a read of %s (env2vault rewrite does this)", file, s.EnvVar)})
			}
		}
	}
	for _, r := range g.repoNames() {
		var envFiles []string
		var tracked []string
		for _, s := range p.Secrets {
			for _, src := range s.Sources {
				if src.Repo == r && src.Kind == SourceEnvFile {
					envFiles = append(envFiles, src.Path)
					if src.Tracked {
						tracked = append(tracked, src.Path)
					}
				}
			}
		}
		slices.Sort(envFiles)
		slices.Sort(tracked)
		if len(envFiles) > 0 {
			l.add(Item{ID: "implementation.rewrite." + idPart(r), Repo: r,
				Text: fmt.Sprintf("Run env2vault rewrite in %s and review the diff: values in %s become references that env2vault run resolves", r, strings.Join(slices.Compact(envFiles), ", "))})
		}
		if len(tracked) > 0 {
			l.add(Item{ID: "implementation.untrack." + idPart(r), Repo: r,
				Text: fmt.Sprintf("Stop tracking %s in %s (git rm --cached) and add it to .gitignore", strings.Join(slices.Compact(tracked), ", "), r)})
		}
		l.add(Item{ID: "implementation.pre-commit." + idPart(r), Repo: r,
			Text: fmt.Sprintf("Install the gitleaks pre-commit hook in %s so new secrets are stopped before they are committed", r)})
	}
	return l.phase()
}

func (g phaseGen) rollout() Phase {
	l := phaseList{name: PhaseRollout}
	p := g.p
	if len(p.Secrets) == 0 {
		return l.phase()
	}
	order := ""
	if envs := slices.DeleteFunc(g.envs(), func(e string) bool { return e == EnvShared }); len(envs) > 1 {
		order = " (" + strings.Join(envs, ", then ") + ")"
	}
	l.add(Item{ID: "rollout.deploy", BestPractice: true,
		Text: fmt.Sprintf("Roll out one environment at a time%s, starting each service under env2vault run or its platform's secret injection, and watch for authentication errors", order)})
	l.add(Item{ID: "rollout.verify",
		Text: "Run env2vault verify --plan <plan file> until it passes: the backend holds every secret and no file or code path still holds or reads a migrated value"})
	for _, s := range p.Secrets {
		if s.Rotate {
			l.add(Item{ID: "rollout.revoke." + idPart(s.Name), Secret: s.Name, Repo: s.Sources[0].Repo,
				Text: fmt.Sprintf("Revoke the old value of %s%s after the new one is confirmed working in %s", s.Name, at(s), s.Environment)})
		}
	}
	for _, r := range g.repoNames() {
		var files []string
		for _, s := range p.Secrets {
			for _, src := range s.Sources {
				if src.Repo == r && src.Kind == SourceEnvFile {
					files = append(files, src.Path)
				}
			}
		}
		slices.Sort(files)
		if len(files) > 0 {
			l.add(Item{ID: "rollout.cleanup." + idPart(r), Repo: r,
				Text: fmt.Sprintf("Delete the plaintext copies of %s in %s from laptops, servers and CI caches once every service reads from the backend", strings.Join(slices.Compact(files), ", "), r)})
		}
	}
	for _, r := range p.Repos {
		if files := leakedEnvFiles(r); len(files) > 0 {
			l.add(Item{ID: "rollout.history." + idPart(r.Name), Repo: r.Name,
				Text: fmt.Sprintf("Optionally purge %s from the git history of %s (git filter-repo) after rotating: rotation, not the purge, is what ends the exposure", strings.Join(files, ", "), r.Name)})
		}
	}
	l.add(Item{ID: "rollout.audit-review", BestPractice: true,
		Text: "Review the audit log after the first week: every read of a migrated secret should come from the service that owns it"})
	l.add(Item{ID: "rollout.rotation-schedule", BestPractice: true,
		Text: "Set a rotation schedule for every secret (prod first) and put it in each owner's calendar"})
	return l.phase()
}

// leakedEnvFiles are the .env files ever committed to r, leaving out
// templates such as .env.example, which hold placeholders.
func leakedEnvFiles(r RepoInfo) []string {
	var out []string
	for _, f := range r.CommittedEnvFiles {
		if !discover.IsEnvTemplate(f) {
			out = append(out, f)
		}
	}
	return out
}
