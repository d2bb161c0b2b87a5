package plan

import (
	"context"
	"fmt"
	"testing"

	"github.com/env2vault/env2vault/discover"
)

// synthetic returns a scan of repos repos, each with .env and
// .env.production files of keys secrets and as many env reads.
func synthetic(repos, keys int) *discover.Result {
	res := &discover.Result{SchemaVersion: discover.SchemaVersion, Roots: []string{"/org"}}
	for r := 0; r < repos; r++ {
		repo := fmt.Sprintf("team%d/svc%d", r%10, r)
		res.Repos = append(res.Repos, discover.Repo{Root: "/org", Name: repo, Git: true})
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("SERVICE%d_API_KEY", k)
			for i, file := range []string{".env", ".env.production"} {
				res.Findings = append(res.Findings, discover.Finding{Kind: discover.KindEnvFile, Root: "/org", Repo: repo, Path: file, Line: k + 1, Key: key,
					Classification: discover.ClassSecret, Fingerprint: fmt.Sprintf("hmac-sha256:%08x%08x%016x", r, k, i)})
			}
			res.Findings = append(res.Findings, discover.Finding{Kind: discover.KindEnvRead, Root: "/org", Repo: repo, Path: "main.go", Line: k + 1, Key: key})
		}
	}
	return res
}

func BenchmarkBuild(b *testing.B) {
	res := synthetic(100, 20) // 4,000 secrets
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), res, BuildOptions{Lookup: StaticLookup{}}); err != nil {
			b.Fatal(err)
		}
	}
}
