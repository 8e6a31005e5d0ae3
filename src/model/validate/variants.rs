//! What-if variants are validated like the base model, each on its own; their errors and
//! warnings name the variant.

use super::{Checked, Validator, duplicates, first_declared, validate};
use crate::model::*;

/// Validates every variant's model, and refuses duplicate names and variants of variants.
pub(super) fn check_variants(v: &mut Validator) -> Vec<Checked> {
    let m = v.model;
    for (i, first) in duplicates(m.variants.iter().map(|x| (x.name.as_str(), &x.origin))) {
        let x = &m.variants[i];
        let msg = format!("declared twice{}", first_declared(first, &x.origin));
        v.error(format!("variant `{}`", x.name), &x.origin, msg);
    }
    let mut checked = Vec::new();
    for x in &m.variants {
        let item = format!("variant `{}`", x.name);
        if !x.model.variants.is_empty() {
            let msg = "declares variants of its own; a variant is one change of the base model";
            v.error(item, &x.origin, msg);
            continue;
        }
        match validate((*x.model).clone()) {
            Ok(c) => {
                keep_new_warnings(v, &item, &c.warnings);
                checked.push(c);
            }
            Err(errors) => {
                for e in errors.0 {
                    let origin = e.origin.or_else(|| x.origin.clone());
                    v.error(format!("{item}: {}", e.item), &origin, e.message);
                }
            }
        }
    }
    checked
}

/// The variant's warnings that the base model does not already give, named by the variant.
fn keep_new_warnings(v: &mut Validator, item: &str, warnings: &[ModelWarning]) {
    for w in warnings {
        if !v.warnings.contains(w) {
            v.warn(format!("{item}: {}", w.item), &w.origin, w.message.clone());
        }
    }
}
