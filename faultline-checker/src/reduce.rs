//! The config-set walk's partial-order reduction around crashed calls (see
//! [`Walk::reducible`]): a crashed op that changed nothing useful, or a pair of ops whose two
//! orders reach the same state, need only one of their interleavings explored.

use super::linear::Walk;
use super::model::Model;

impl<M: Model> Walk<'_, M> {
    /// Partial-order reduction after a crashed op x taken from parent state p (`via`): skip
    /// appending op y (crashed class `y_class`, or an ok call when `None`) with result `after` if
    /// y alone from p reaches the same state (x was useless: p·y uses fewer crashed calls and
    /// dominates), or if y then x reaches the same state (p·y·x is explored instead, or reached at
    /// a later return since crashed calls stay available). Crashed pairs are ordered by class to
    /// keep one of the two orders.
    pub(super) fn reducible(
        &self,
        via: Option<&(u32, M::State, u128)>,
        y: &M::Op,
        y_class: Option<u32>,
        after: &M::State,
    ) -> bool {
        let Some((x_class, parent, _)) = via else {
            return false;
        };
        let Some(py) = self.model.try_step(parent, y) else {
            return false;
        };
        if py == *after {
            return true;
        }
        if y_class.is_some_and(|k| k >= *x_class) {
            return false;
        }
        let x = &self.classes.ops[*x_class as usize];
        self.model.try_step(&py, x).is_some_and(|pyx| pyx == *after)
    }
}
