package reach_test

import (
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// service makes the container a Compose service's, as docker-compose 1.29
// labels it.
func service(project, name string) option {
	return func(c *topology.Container) {
		c.Labels = map[string]string{
			topology.ComposeProjectLabel: project, topology.ComposeServiceLabel: name, topology.ComposeNumberLabel: "1",
			topology.ComposeConfigFilesLabel: "/src/" + project + "/docker-compose.yml",
		}
	}
}

// composeNet is a network Compose made for project under key.
func composeNet(project, key string) topology.Network {
	return topology.Network{ID: id(project + "_" + key), Name: project + "_" + key, Driver: "bridge", ICC: true,
		Labels: map[string]string{topology.ComposeProjectLabel: project, topology.ComposeNetworkLabel: key}}
}

// TestComposeRules checks that the explainer speaks Compose for Compose
// services: the fix names the compose file and the key to add, and a
// service of another project needs the network declared external.
func TestComposeRules(t *testing.T) {
	inv := topology.Inventory{
		Networks: []topology.Network{bridge, composeNet("shop", "front"), composeNet("shop", "back"), composeNet("blog", "default")},
		Containers: []topology.Container{
			ctr("shop_web_1", service("shop", "web"), on("shop_front", "web")),
			ctr("shop_api_1", service("shop", "api"), on("shop_front", "api"), on("shop_back", "api")),
			ctr("shop_db_1", service("shop", "db"), on("shop_back", "db")),
			ctr("blog_app_1", service("blog", "app"), on("blog_default", "app")),
			ctr("loose", on("bridge")),
		},
	}
	x := reach.New(topology.Build(inv))
	cases := []struct {
		from, to, code string
		text, fix      []string
	}{
		{"shop_web_1", "shop_db_1", "compose-no-common-network",
			[]string{"Compose project shop", "shop_web_1 is on front", "shop_db_1 is on back"},
			[]string{"/src/shop/docker-compose.yml", "add back to the networks: of service web", "docker-compose up -d", "docker network connect shop_back shop_web_1"}},
		{"shop_web_1", "blog_app_1", "compose-external-network",
			[]string{"project shop", "project blog", "external: true"},
			[]string{"blog_default: external: true", "networks: of service web", "docker network connect blog_default shop_web_1"}},
		// Not both Compose services: the plain rule.
		{"loose", "shop_db_1", "no-common-network", nil, nil},
	}
	for _, tc := range cases {
		p, err := x.Explain(node(tc.from), node(tc.to))
		if err != nil {
			t.Fatal(err)
		}
		if p.ByName.OK || len(p.ByName.Reasons) == 0 || p.ByName.Reasons[0].Code != tc.code {
			t.Errorf("%s → %s by name: %+v, want first reason %s", tc.from, tc.to, p.ByName, tc.code)
			continue
		}
		r := p.ByName.Reasons[0]
		for _, s := range tc.text {
			if !strings.Contains(r.Text, s) {
				t.Errorf("%s → %s: text %q lacks %q", tc.from, tc.to, r.Text, s)
			}
		}
		for _, s := range tc.fix {
			if !strings.Contains(r.Fix, s) {
				t.Errorf("%s → %s: fix %q lacks %q", tc.from, tc.to, r.Fix, s)
			}
		}
	}

	// Every service reaches every other by service name on a network they
	// share, and the note says it is Compose's doing.
	o, err := x.ExplainName(node("shop_web_1"), node("shop_api_1"), "api")
	if err != nil {
		t.Fatal(err)
	}
	if !o.OK || o.Via != "shop_front" || len(o.Reasons) == 0 || !strings.Contains(o.Reasons[0].Text, "Compose gives every service its service name") {
		t.Errorf("web → api by the name api: %+v", o)
	}
}
