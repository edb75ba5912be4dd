package compose

import (
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// netKey is how the file names one network and declares it.
type netKey struct {
	key    string
	config types.NetworkConfig
	used   bool
}

// networkKeys names every network of the set in the file. A network is the
// project's own, declared with its driver and options and made again
// under the new project's name, when Compose made it for this project, or
// when it is a user-defined network of no other project that only the set's
// containers are on. Any other is external: the new containers join it as
// it is.
func networkKeys(sel Selection, inSet map[string]bool) map[string]*netKey {
	out := map[string]*netKey{}
	taken := map[string]bool{}
	names := slices.Sorted(maps.Keys(sel.Networks))
	for _, n := range names {
		nw := sel.Networks[n]
		own, key := ownKey(n, nw.Labels, LabelNetwork, sel.Project, !predefined(n), nw.Members, inSet, taken)
		nk := &netKey{key: key}
		if own {
			nk.config = types.NetworkConfig{
				Driver: nw.Driver, DriverOpts: types.Options(cloneNonEmpty(nw.Options)),
				Internal: nw.Internal, Attachable: nw.Attachable,
				Labels: types.Labels(withoutCompose(nw.Labels, nil)),
			}
			if nk.config.Driver == "bridge" {
				nk.config.Driver = ""
			}
		} else {
			nk.config = types.NetworkConfig{Name: n, External: true}
		}
		out[n] = nk
	}
	return out
}

// needSubnets gives an own network its subnets: a static address asks
// for one (Compose refuses ipv4_address on a network without a subnet).
// Otherwise none, so that the re-created project can run beside the old.
func needSubnets(nk *netKey, nw Network) {
	if nk.config.External || len(nk.config.Ipam.Config) > 0 {
		return
	}
	for _, s := range nw.Subnets {
		nk.config.Ipam.Config = append(nk.config.Ipam.Config, &types.IPAMPool{Subnet: s.Subnet, Gateway: s.Gateway})
	}
}

// predefined says whether a network is one the engine makes itself.
func predefined(n string) bool { return n == "bridge" || n == "host" || n == "none" }

// volKey is how the file names one named volume; an empty key is an
// anonymous volume, mounted by its path alone.
type volKey struct {
	key    string
	config types.VolumeConfig
}

// volumeKeys names every named volume of the set, by the same rule as
// networks: Compose's for this project, or no project's and used only by
// the set, is declared and made again; any other is external and shared.
func volumeKeys(sel Selection, inSet map[string]bool) map[string]*volKey {
	out := map[string]*volKey{}
	taken := map[string]bool{}
	for _, n := range slices.Sorted(maps.Keys(sel.Volumes)) {
		v := sel.Volumes[n]
		if v.Anonymous {
			out[n] = &volKey{}
			continue
		}
		own, key := ownKey(n, v.Labels, LabelVolume, sel.Project, true, v.Users, inSet, taken)
		vk := &volKey{key: key}
		if own {
			vk.config = types.VolumeConfig{
				DriverOpts: types.Options(cloneNonEmpty(v.Options)),
				Labels:     types.Labels(withoutCompose(v.Labels, nil)),
			}
			if v.Driver != "" && v.Driver != "local" {
				vk.config.Driver = v.Driver
			}
		} else {
			vk.config = types.VolumeConfig{Name: n, External: true}
		}
		out[n] = vk
	}
	return out
}

// ownKey says whether the network or volume called name is the exported
// project's own, and the key the file gives it (unique among taken, which
// it joins). One Compose made for the project is its own, under the key
// Compose's keyLabel gives it; one of another project is not; one of no
// project is when it may be (not one of the engine's own) and only the
// set's containers (inSet) use it.
func ownKey(name string, labels map[string]string, keyLabel, project string, mayOwn bool, users []string, inSet, taken map[string]bool) (bool, string) {
	own, key := false, name
	if proj := labels[LabelProject]; proj != "" {
		own = proj == project
		if own && labels[keyLabel] != "" {
			key = labels[keyLabel]
		}
	} else if mayOwn {
		own = !slices.ContainsFunc(users, func(u string) bool { return !inSet[u] })
	}
	for taken[key] {
		key += "_"
	}
	taken[key] = true
	return own, key
}
