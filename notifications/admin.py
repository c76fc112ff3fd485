from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.services import Actor, ActorKind, RequestMeta
from portal.refusals import refusal_shown

from .models import OutboxMessage
from .services import message_id_header, outbox_message_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "template", "to_email", "language", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "template", "language")
    search_fields = ("to_email", "target_id", "subject")
    exclude = ("secrets",)
    actions = ["send_again"]

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in self.model._meta.fields if f.name != "secrets"), "message_id"]

    @admin.display(description=_("Message-ID"))
    def message_id(self, obj):
        return message_id_header(obj) if obj.pk else ""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("notifications.retry_outboxmessage")

    @admin.action(description=_("Send the failed emails again"), permissions=["retry"])
    def send_again(self, request, queryset):
        """Each selected failed email gets a new round of attempts (audited by the service)."""
        actor = Actor(kind=ActorKind.STAFF, user=request.user, meta=RequestMeta.from_request(request))
        sent_again, refused = 0, None
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            with refusal_shown() as attempt:
                outbox_message_retry(message_id=pk, actor=actor)
            if attempt.refused:
                refused = attempt.refused
            else:
                sent_again += 1
        if sent_again:
            self.message_user(
                request,
                ngettext("%(count)d email will be sent again.", "%(count)d emails will be sent again.", sent_again)
                % {"count": sent_again},
                messages.SUCCESS,
            )
        if refused is not None:
            self.message_user(request, refused.message, messages.WARNING)
