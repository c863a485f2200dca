//! Groups as reads show them.

use makara_config::Id;

use crate::error::GroupLookupError;
use crate::report::Reading;
use crate::views::GroupView;

impl Reading<'_> {
    /// Every group, in creation order.
    pub fn groups(&self) -> Vec<GroupView> {
        let ids = self.doc.groups.iter().map(|g| &g.id);
        ids.filter_map(|id| self.group_view(id)).collect()
    }

    pub fn group(&self, id: &Id) -> Result<GroupView, GroupLookupError> {
        self.group_view(id)
            .ok_or_else(|| GroupLookupError::NotFound(id.clone()))
    }

    pub fn group_view(&self, id: &Id) -> Option<GroupView> {
        let g = self.doc.groups.iter().find(|g| &g.id == id)?;
        Some(GroupView {
            id: g.id.clone(),
            title: g.title.clone(),
            description: g.description.clone(),
            active: g.active,
            sync_record: g.sync_record,
            created_unix: g.created_unix,
            modified_unix: g.modified_unix,
            outputs: g.outputs.clone(),
            recording: self.recordings.is_recording(&g.id),
        })
    }
}
