//! Request bodies and query strings come from clients: whatever they hold, parsing and patching
//! must return an error, never panic (a panic would take down a request handler).

use apimachinery::apply::{self, ManagerOptions, TypeInfo};
use apimachinery::fields::FieldSelector;
use apimachinery::jsonpath::JsonPath;
use apimachinery::labels::Selector;
use apimachinery::patch;
use apimachinery::schema;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z$/.:{}\\[\\]]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("$patch".to_string()),
                    Just("$retainKeys".to_string()),
                    Just("$setElementOrder/containers".to_string()),
                    Just("$deleteFromPrimitiveList/finalizers".to_string()),
                    Just("containers".to_string()),
                    Just("name".to_string()),
                    Just("finalizers".to_string()),
                    "[a-c]",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {

    #[test]
    fn selectors_and_paths_never_panic(s in "\\PC{0,40}") {
        let _ = Selector::parse(&s);
        let _ = FieldSelector::parse(&s);
        if let Ok(p) = JsonPath::parse(&s) {
            let _ = p.find(&json!({"a": [1, {"b": 2}]}));
        }
    }

    #[test]
    fn selector_like_strings_never_panic(s in "[a-z!=(), in]{0,30}") {
        if let Ok(sel) = Selector::parse(&s) {
            // whatever parses prints back to something that parses the same
            prop_assert_eq!(Selector::parse(&sel.to_string()).unwrap(), sel);
        }
    }

    #[test]
    fn patches_never_panic(doc in json_value(), p in json_value()) {
        let _ = patch::apply_strategic_merge_patch(&doc, &p, "Deployment");
        let _ = patch::apply_strategic_merge_patch(&doc, &p, "Pod");
        let _ = patch::apply_json_patch(&doc, &p);
        let _ = patch::apply_merge_patch(&doc, &p);
    }

    #[test]
    fn apply_and_schema_never_panic(live in json_value(), cfg in json_value(), sch in json_value()) {
        let opts = ManagerOptions {
            manager: "m",
            force: false,
            api_version: "v1",
            subresource: None,
            now: "2024-06-01T12:00:00Z",
            types: TypeInfo::Schema(&sch),
        };
        let _ = apply::server_side_apply(Some(&live), &cfg, &opts);
        let mut l = live.clone();
        apply::record_update(Some(&cfg), &mut l, &opts);
        let _ = schema::validate(&sch, &cfg);
        let _ = schema::validate_structural(&sch, "s");
        let mut c = cfg.clone();
        schema::prune(&sch, &mut c);
        schema::apply_defaults(&sch, &mut c);
        let _ = apply::parse_apply_body(cfg.to_string().as_bytes());
    }
}
