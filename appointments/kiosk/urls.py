from django.urls import path

from . import views

app_name = "kiosk"

urlpatterns = [
    path("", views.start, name="start"),
    path("setup/", views.setup, name="setup"),
    path("reset/", views.reset, name="reset"),
    path("book/", views.book_identity, name="book_identity"),
    path("book/category/", views.book_category, name="book_category"),
    path("book/summary/", views.book_summary, name="book_summary"),
    path("book/department/", views.book_department, name="book_department"),
    path("book/day/", views.book_day, name="book_day"),
    path("book/time/", views.book_time, name="book_time"),
    path("book/confirm/", views.book_confirm, name="book_confirm"),
    path("book/receipt/", views.book_receipt, name="book_receipt"),
    path("book/waitlist/", views.book_waitlist, name="book_waitlist"),
    path("waitlist/joined/", views.waitlist_joined, name="waitlist_joined"),
    path("progress/", views.progress_lookup, name="progress_lookup"),
    path("progress/status/", views.progress_status, name="progress_status"),
    path("progress/cancel/", views.progress_cancel, name="progress_cancel"),
    path("progress/receipt/", views.progress_receipt, name="progress_receipt"),
    path("progress/rate/", views.progress_rate, name="progress_rate"),
    path("progress/rated/", views.progress_rated, name="progress_rated"),
    path("progress/review/", views.progress_review, name="progress_review"),
    path("progress/review/done/", views.progress_reviewed, name="progress_reviewed"),
    path("progress/offer/confirm/", views.progress_offer_confirm, name="progress_offer_confirm"),
    path("progress/offer/decline/", views.progress_offer_decline, name="progress_offer_decline"),
    path("progress/waitlist/join/", views.progress_waitlist_join, name="progress_waitlist_join"),
    path("progress/waitlist/leave/", views.progress_waitlist_leave, name="progress_waitlist_leave"),
    path("progress/reschedule/", views.reschedule_day, name="reschedule_day"),
    path("progress/reschedule/time/", views.reschedule_time, name="reschedule_time"),
    path("progress/reschedule/confirm/", views.reschedule_confirm, name="reschedule_confirm"),
    path("check-in/", views.check_in, name="check_in"),
    path("check-in/done/", views.check_in_done, name="check_in_done"),
]
