from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .actions import AuditAction
from .models import AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """Filter by action, each shown by its sentence."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(code, str(label).capitalize()) for code, label in AuditAction.choices]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "what", "actor_label", "target_type", "target_id", "tenant", "ip_address")
    list_filter = (ActionFilter, "target_type")
    search_fields = ("actor_label", "target_id", "action")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"

    @admin.display(description=_("action"), ordering="action")
    def what(self, obj):
        return obj.get_action_display().capitalize()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
