//! Every catalog and bundle of the shared OLM fixtures (`../shared/fixtures/olm`, or under
//! `$MARKETPLACE_SHARED`) loads, one test per kind of fixture directory; the invalid ones are
//! refused with a message naming the file and the field.

use std::path::{Path, PathBuf};

use catalog::community::{self, UpdateGraph};
use catalog::{Bundle, Catalog, version::cmp_versions};

fn olm_fixtures() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(
                &std::env::var("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../../shared")
        });
    let dir = base.join("fixtures/olm");
    assert!(
        dir.join("bundles").is_dir(),
        "the shared OLM fixtures are missing at {}; set MARKETPLACE_SHARED to the shared/ directory",
        dir.display()
    );
    dir
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The official file-based catalogs load, and each channel's head (the one entry nothing
/// replaces or skips) is the channel's newest version, the one the catalog publishes as latest.
#[test]
fn fbc_catalogs_load_and_heads_match_declared_graph() {
    let fbc = olm_fixtures().join("fbc/v4.22");
    let dirs = subdirs(&fbc);
    assert_eq!(dirs.len(), 10, "fbc/v4.22 should hold 10 catalogs");
    for dir in dirs {
        let cat = Catalog::from_fbc_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(cat.packages.len(), 1, "{}", dir.display());
        let pkg = cat.packages().next().unwrap();
        assert_eq!(pkg.name, dir.file_name().unwrap().to_str().unwrap());
        assert!(
            pkg.default_channel().is_some(),
            "{}: default channel present",
            pkg.name
        );
        for ch in pkg.channels.values() {
            let head = ch
                .head()
                .unwrap_or_else(|| panic!("{}/{}: one head", pkg.name, ch.name));
            let newest = ch
                .entries
                .iter()
                .map(|e| &pkg.bundles[&e.name])
                .max_by(|a, b| cmp_versions(&a.version, &b.version))
                .unwrap();
            assert_eq!(
                head.name, newest.name,
                "{}/{}: head is the newest bundle",
                pkg.name, ch.name
            );
            let chain = ch.replaces_chain();
            assert_eq!(chain[0].name, head.name);
        }
    }
}

/// Known channel heads of the official catalogs, read from the files by hand.
#[test]
fn fbc_known_heads() {
    let fbc = olm_fixtures().join("fbc/v4.22");
    let cat = Catalog::from_fbc_dir(&fbc).unwrap();
    assert_eq!(
        cat.packages.len(),
        10,
        "the whole fbc/ tree loads as one catalog"
    );
    let rmq = cat.package("rabbitmq-messaging-topology-operator").unwrap();
    assert_eq!(rmq.default_channel.as_deref(), Some("stable"));
    assert_eq!(
        rmq.channels["stable"].head().unwrap().name,
        "rabbitmq-messaging-topology-operator.v1.19.3"
    );
    let b = rmq
        .bundle("rabbitmq-messaging-topology-operator.v1.15.0")
        .unwrap();
    let req = b.required_packages();
    assert_eq!(req.len(), 1);
    assert_eq!(req[0].package_name, "rabbitmq-cluster-operator");
    assert_eq!(req[0].version_range, ">2.0.0");
    assert_eq!(b.required_gvks().len(), 1);
    assert!(b.csv_metadata().unwrap().get("displayName").is_some());
    let inf = cat.package("infinispan").unwrap();
    assert_eq!(inf.channels.len(), 4);
}

/// Every registry+v1 bundle in fixtures/olm/bundles loads, except the two whose
/// `dependencies.yaml` is not YAML, which are refused naming that file.
#[test]
fn every_fixture_bundle_loads() {
    let root = olm_fixtures().join("bundles");
    let (mut ok, mut refused) = (0, Vec::new());
    for pkg in subdirs(&root) {
        for v in subdirs(&pkg) {
            let Some(dir) = community::bundle_dir_of(&v) else {
                continue;
            };
            match Bundle::from_registry_v1_dir(&dir) {
                Ok(b) => {
                    ok += 1;
                    assert!(b.csv_json().is_some());
                    assert!(!b.channels.is_empty());
                    assert_eq!(b.properties_of(catalog::types::PACKAGE).count(), 1);
                }
                Err(e) => refused.push(e.to_string()),
            }
        }
    }
    assert_eq!(ok, 552, "bundles loaded; refused: {refused:#?}");
    assert_eq!(refused.len(), 2, "{refused:#?}");
    for r in &refused {
        assert!(
            r.contains("eventing-kogito/") && r.contains("metadata/dependencies.yaml"),
            "{r}"
        );
    }
}

/// Every community-operators package directory is published as a valid catalog (except
/// eventing-kogito, refused for its broken dependencies.yaml), and in replaces-mode every
/// channel's head is the highest version declaring it.
#[test]
fn every_fixture_package_publishes() {
    let root = olm_fixtures().join("bundles");
    let mut published = 0;
    for dir in subdirs(&root) {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let res = community::render_package_dir(&dir);
        if name == "eventing-kogito" {
            let e = res.unwrap_err().to_string();
            assert!(e.contains("dependencies.yaml"), "{e}");
            continue;
        }
        let cat = res.unwrap_or_else(|e| panic!("{name}: {e}"));
        published += 1;
        let pkg = cat
            .package(&name)
            .unwrap_or_else(|| cat.packages().next().unwrap());
        assert!(pkg.default_channel().is_some(), "{name}");
        let mode = community::read_update_graph(&dir).unwrap();
        let all = community::load_package_bundles(&dir).unwrap();
        for ch in pkg.channels.values() {
            let head = ch.head().unwrap();
            let newest = all
                .iter()
                .filter(|b| b.channels.contains(&ch.name))
                .max_by(|a, b| cmp_versions(&a.version, &b.version))
                .unwrap();
            assert_eq!(head.name, newest.name, "{name}/{}", ch.name);
            if mode == UpdateGraph::SemverMode {
                let declaring = all.iter().filter(|b| b.channels.contains(&ch.name)).count();
                assert_eq!(
                    ch.entries.len(),
                    declaring,
                    "{name}/{}: semver-mode keeps every bundle",
                    ch.name
                );
            }
        }
    }
    assert_eq!(published, 44);
}

/// operator-registry's test data: FBC indexes and registry+v1 bundles load; its invalid bundles
/// are refused naming the field.
#[test]
fn operator_registry_testdata_loads() {
    let or = olm_fixtures().join("operator-registry");
    let td = or.join("alpha/action/testdata");
    for d in [
        "index-declcfgs/old",
        "index-declcfgs/latest",
        "index-declcfgs/exp-headsonly",
        "index-declcfgs/exp-latest",
        "foo-index-v0.2.0-declcfg",
        "list-index",
    ] {
        Catalog::from_fbc_dir(&td.join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
    }
    Catalog::from_fbc_dir(&or.join("fbc-dir")).unwrap();
    for d in subdirs(&td).into_iter().filter(|d| {
        d.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .contains("-bundle-")
    }) {
        Bundle::from_registry_v1_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    for d in subdirs(&or.join("bundles"))
        .into_iter()
        .filter(|d| community::is_bundle_dir(d))
    {
        Bundle::from_registry_v1_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    let validate = or.join("pkg/lib/bundle/testdata/validate");
    for d in ["valid_bundle", "valid_bundle_2"] {
        Bundle::from_registry_v1_dir(&validate.join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
    }
    let refused = |d: &str, field: &str| {
        let e = Bundle::from_registry_v1_dir(&validate.join(d))
            .expect_err(d)
            .to_string();
        assert!(e.contains(field), "{d}: {e}");
    };
    refused(
        "invalid_annotations_bundle",
        "metadata/annotations.yaml: annotations.operators.operatorframework.io.bundle.mediatype.v1",
    );
    refused(
        "invalid_dependencies_bundle/invalid_dependency_type",
        "dependencies.yaml: dependencies[0].type",
    );
    refused(
        "invalid_dependencies_bundle/invalid_gvk_dependency",
        "dependencies.yaml: dependencies[0].value",
    );
    refused(
        "invalid_dependencies_bundle/invalid_label_dependency",
        "dependencies.yaml: dependencies[0].value.label",
    );
    refused(
        "invalid_dependencies_bundle/invalid_package_dependency",
        "dependencies.yaml: dependencies[0].value",
    );
}

/// registry+v1 bundles rendered as `opm render` does give the same properties (in the same
/// order) and related images as the official catalog publishes for the same bundle.
#[test]
fn registry_v1_render_matches_official_fbc_bundles() {
    let olm = olm_fixtures();
    let official = Catalog::from_fbc_dir(&olm.join("fbc/v4.22")).unwrap();
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for pkg_dir in subdirs(&olm.join("bundles")) {
        let Ok(bundles) = community::load_package_bundles(&pkg_dir) else {
            continue;
        };
        for local in bundles {
            let Some(pub_b) = official.bundle(&local.package, &local.name) else {
                continue;
            };
            let files = read_tree(Path::new(&local.source));
            let ours = Bundle::from_registry_v1_files(&local.source, files, &pub_b.image).unwrap();
            compared += 1;
            let types = |b: &Bundle| {
                b.properties
                    .iter()
                    .map(|p| p.type_.clone())
                    .collect::<Vec<_>>()
            };
            if types(&ours) != types(pub_b) {
                mismatches.push(format!(
                    "{}: property types {:?} vs {:?}",
                    ours.name,
                    types(&ours),
                    types(pub_b)
                ));
                continue;
            }
            for (a, b) in ours.properties.iter().zip(&pub_b.properties) {
                if a.value != b.value {
                    let keys: Vec<String> = match (a.value.as_object(), b.value.as_object()) {
                        (Some(x), Some(y)) => x
                            .keys()
                            .chain(y.keys())
                            .filter(|k| x.get(*k) != y.get(*k))
                            .map(|k| {
                                format!(
                                    "{k}: ours {:?} published {:?}",
                                    x.get(k).map(|v| v
                                        .to_string()
                                        .chars()
                                        .take(150)
                                        .collect::<String>()),
                                    y.get(k).map(|v| v
                                        .to_string()
                                        .chars()
                                        .take(150)
                                        .collect::<String>())
                                )
                            })
                            .collect(),
                        _ => vec![format!("ours {} published {}", a.value, b.value)],
                    };
                    mismatches.push(format!(
                        "{}: {} differs: {}",
                        ours.name,
                        a.type_,
                        keys.join("; ")
                    ));
                }
            }
            if ours.related_images != pub_b.related_images {
                mismatches.push(format!(
                    "{}: relatedImages {:?} vs {:?}",
                    ours.name, ours.related_images, pub_b.related_images
                ));
            }
        }
    }
    assert!(compared >= 10, "compared {compared} bundles");
    assert!(
        mismatches.is_empty(),
        "{} of {compared} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["manifests", "metadata"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                out.push((
                    format!("{sub}/{}", p.file_name().unwrap().to_str().unwrap()),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out
}

/// operator-registry's own rendered index (`foo-index-v0.2.0-declcfg`, written by `opm` with
/// `olm.bundle.object` properties) against our render of the same registry+v1 bundle: the same
/// derived properties in the same order, the same related images, the same objects.
#[test]
fn registry_v1_render_matches_opm_rendered_index() {
    let td = olm_fixtures().join("operator-registry/alpha/action/testdata");
    let index = Catalog::from_fbc_dir(&td.join("foo-index-v0.2.0-declcfg")).unwrap();
    let theirs = index.bundle("foo", "foo.v0.2.0").unwrap();
    let dir = td.join("foo-bundle-v0.2.0");
    let ours =
        Bundle::from_registry_v1_files(&dir.display().to_string(), read_tree(&dir), &theirs.image)
            .unwrap();
    let derived = |b: &Bundle| {
        b.properties
            .iter()
            .filter(|p| p.type_ != "olm.bundle.object" && p.type_ != "olm.csv.metadata")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(derived(&ours), derived(theirs));
    // (this hand-kept index lists related images in no particular order; compare as sets)
    let sorted = |b: &Bundle| {
        let mut v: Vec<(String, String)> = b
            .related_images
            .iter()
            .map(|r| (r.image.clone(), r.name.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours), sorted(theirs));
    assert_eq!(
        theirs.objects().len(),
        2,
        "the index carries the CSV and the CRD as olm.bundle.object"
    );
    for obj in theirs.objects() {
        assert!(
            ours.objects().contains(obj),
            "object {} {} differs",
            obj["kind"],
            obj["metadata"]["name"]
        );
    }
    assert_eq!(theirs.csv_json().unwrap()["metadata"]["name"], "foo.v0.2.0");
}
