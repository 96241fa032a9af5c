"""gRPC plumbing: the ``google.cloud.tasks.v2.CloudTasks`` methods this emulator has, on a
threaded ``grpc`` server. Methods not listed (IAM, CMEK, batch calls) are UNIMPLEMENTED, as
any unknown method is; a :class:`~.queues.TasksError` becomes its status."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.protobuf import empty_pb2, field_mask_pb2

from .queues import Tasks, TasksError, retry_of

log = logging.getLogger("tasks_emulator")
SERVICE = "google.cloud.tasks.v2.CloudTasks"


def _view(task: Any, view: int) -> Any:
    """The task as answered: BASIC (the default) omits the body, as Cloud Tasks does."""
    copy = tasks_v2.Task.deserialize(tasks_v2.Task.serialize(task))
    copy.view = tasks_v2.Task.View.FULL if view == tasks_v2.Task.View.FULL else tasks_v2.Task.View.BASIC
    if copy.view == tasks_v2.Task.View.BASIC and "http_request" in copy:
        copy.http_request.body = b""
    return copy


class Service:
    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks

    # queues
    def GetQueue(self, r: Any) -> Any:
        with self.tasks.cond:
            return self.tasks.queue(r.name).proto

    def ListQueues(self, r: Any) -> Any:
        with self.tasks.cond:
            queues = [q.proto for n, q in sorted(self.tasks.queues.items()) if n.startswith(r.parent + "/queues/")]
        return tasks_v2.ListQueuesResponse(queues=queues)

    def CreateQueue(self, r: Any) -> Any:
        if not r.queue.name.startswith(r.parent + "/queues/"):
            raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, "The queue's name must be under its parent")
        return self.tasks.add_queue(r.queue).proto

    def UpdateQueue(self, r: Any) -> Any:
        with self.tasks.cond:
            queue = self.tasks.queue(r.queue.name)
            paths = list(r.update_mask.paths) or ["retry_config", "rate_limits"]
            merged = tasks_v2.Queue.pb(queue.proto)
            mask = field_mask_pb2.FieldMask(paths=paths)
            mask.MergeMessage(tasks_v2.Queue.pb(r.queue), merged, replace_message_field=True)
            queue.proto = tasks_v2.Queue.wrap(merged)
            queue.retry = retry_of(queue.proto)
            return queue.proto

    def DeleteQueue(self, r: Any) -> Any:
        with self.tasks.cond:
            self.tasks.queue(r.name)
            del self.tasks.queues[r.name]
        return empty_pb2.Empty()

    def PurgeQueue(self, r: Any) -> Any:
        self.tasks.purge(r.name)
        return self.GetQueue(r)

    def _state(self, name: str, state: Any) -> Any:
        with self.tasks.cond:
            queue = self.tasks.queue(name)
            queue.proto.state = state
            self.tasks.cond.notify_all()
            return queue.proto

    def PauseQueue(self, r: Any) -> Any:
        return self._state(r.name, tasks_v2.Queue.State.PAUSED)

    def ResumeQueue(self, r: Any) -> Any:
        return self._state(r.name, tasks_v2.Queue.State.RUNNING)

    # tasks
    def CreateTask(self, r: Any) -> Any:
        return _view(self.tasks.create(r.parent, r.task), r.response_view)

    def GetTask(self, r: Any) -> Any:
        with self.tasks.cond:
            return _view(self.tasks.get(r.name)[1].task, r.response_view)

    def ListTasks(self, r: Any) -> Any:
        with self.tasks.cond:
            queue = self.tasks.queue(r.parent)
            tasks = [_view(e.task, r.response_view) for e in sorted(queue.tasks.values(), key=lambda e: e.eta)]
        return tasks_v2.ListTasksResponse(tasks=tasks)

    def DeleteTask(self, r: Any) -> Any:
        self.tasks.delete(r.name)
        return empty_pb2.Empty()

    def RunTask(self, r: Any) -> Any:
        return _view(self.tasks.run_now(r.name), r.response_view)


REQUESTS = {
    "GetQueue": (tasks_v2.GetQueueRequest, tasks_v2.Queue),
    "ListQueues": (tasks_v2.ListQueuesRequest, tasks_v2.ListQueuesResponse),
    "CreateQueue": (tasks_v2.CreateQueueRequest, tasks_v2.Queue),
    "UpdateQueue": (tasks_v2.UpdateQueueRequest, tasks_v2.Queue),
    "DeleteQueue": (tasks_v2.DeleteQueueRequest, None),
    "PurgeQueue": (tasks_v2.PurgeQueueRequest, tasks_v2.Queue),
    "PauseQueue": (tasks_v2.PauseQueueRequest, tasks_v2.Queue),
    "ResumeQueue": (tasks_v2.ResumeQueueRequest, tasks_v2.Queue),
    "CreateTask": (tasks_v2.CreateTaskRequest, tasks_v2.Task),
    "GetTask": (tasks_v2.GetTaskRequest, tasks_v2.Task),
    "ListTasks": (tasks_v2.ListTasksRequest, tasks_v2.ListTasksResponse),
    "DeleteTask": (tasks_v2.DeleteTaskRequest, None),
    "RunTask": (tasks_v2.RunTaskRequest, tasks_v2.Task),
}


def _handler(method: Callable[[Any], Any], request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except TasksError as error:
            context.abort(error.code, error.message)
        except Exception as error:
            log.exception("internal error in %s", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"Internal emulator error: {type(error).__name__}: {error}")
        raise AssertionError("unreachable")

    serialize = response_type.serialize if response_type else (lambda m: m.SerializeToString())
    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=request_type.deserialize, response_serializer=serialize
    )


def server(tasks: Tasks, host: str, port: int) -> grpc.Server:
    """A started gRPC server on ``host:port`` (raises if the port is taken)."""
    service = Service(tasks)
    handlers = {name: _handler(getattr(service, name), req, resp) for name, (req, resp) in REQUESTS.items()}
    grpc_server = grpc.server(ThreadPoolExecutor(max_workers=8, thread_name_prefix="grpc"))
    grpc_server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    if grpc_server.add_insecure_port(f"{host}:{port}") == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    grpc_server.start()
    return grpc_server
